"""Cold start per API function (docs/design.md: handler <= 1.5x floor).

In a fresh interpreter (children.py), importing the handler and serving its first request on the
function's main success path (main_paths.py), against the floor measured in the same run: a fresh
interpreter importing boto3 and the `cryptography` modules the operation needs, making the same
AWS calls with the same parameters and doing the operation's own cryptography. Runs alternate
handler, floor, handler, floor ... so drift touches both; each run's state is made before it, in
this process, outside the timed part. Adding an API function: a row in main_paths.MAIN_PATHS.
"""

from __future__ import annotations

import base64
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fincert_local.bench.budgets import COLD_START_BUDGET
from fincert_local.bench.children import FLOOR_CHILD, HANDLER_CHILD, ChildRunner
from fincert_local.bench.context import UsageError
from fincert_local.bench.main_paths import MAIN_PATHS, Bench, MainPath, Prepared
from fincert_local.gateway import LambdaContext
from fincert_local.template import FunctionSpec, api_routes, authorizer, functions, repo_root


@dataclass(frozen=True)
class ColdStartTarget:
    spec: FunctionSpec
    path: MainPath | None  # None: the function has no row in MAIN_PATHS (an error row)

    @property
    def request(self) -> str:
        return self.path.request if self.path else "(no main path)"

    @property
    def handler_file(self) -> Path:
        module_path = self.spec.handler.rpartition(".")[0]
        return repo_root() / self.spec.code_uri / (module_path.replace(".", "/") + ".py")


def cold_start_targets(template: dict, only: list[str] | None = None) -> list[ColdStartTarget]:
    """The API functions of template.yaml (route handlers and the authorizer), in template order,
    each with the main path of MAIN_PATHS that template.yaml routes to it (the first, if several)."""
    specs = functions(template)
    unknown = sorted(set(only or []) - set(specs))
    if unknown:
        raise UsageError(f"unknown functions {unknown}; template.yaml has {sorted(specs)}")
    auth = authorizer(template)
    routed = {f"{r.method} {r.path}": r.function_id for r in api_routes(template)}
    if auth is not None:
        routed["authorizer"] = auth.function_id
    targets = []
    for function_id, spec in specs.items():
        if only and function_id not in only:
            continue
        if function_id not in routed.values():
            continue  # not an API function (a scheduled job): no cold-start budget
        path = next((p for p in MAIN_PATHS if routed.get(p.request) == function_id), None)
        targets.append(ColdStartTarget(spec, path))
    return targets


def _operation(call: dict) -> str:
    return f"{call['service']}.{call['operation']}"


def _handler_job(target: ColdStartTarget, event: dict, region: str) -> dict:
    context = {k: v for k, v in vars(LambdaContext(target.spec, region)).items() if not k.startswith("_")}
    return {
        "module_name": f"fincert_fn_{target.spec.logical_id}",  # as the gateway names it
        "handler_file": str(target.handler_file),
        "handler_attribute": target.spec.handler.rpartition(".")[2],
        "event": event,
        "context": context,
    }


def _refusal(target: ColdStartTarget, prepared: Prepared, handler: dict) -> str | None:
    """Why the handler's answer is not its path's documented success (None: it is)."""
    if handler["error"]:
        return handler["error"]
    if target.path is None or handler["status"] != target.path.success:
        return f"unexpected response status {handler['status']!r}: {str(handler.get('body'))[:300]}"
    return prepared.check(handler)


def _run_pair(
    target: ColdStartTarget,
    bench: Bench,
    runner: ChildRunner,
    env: dict[str, str],
    python_flags: tuple[str, ...] = (),
) -> tuple[dict, str, dict, str]:
    """One run of each side: fresh state prepared here first (not timed), then the handler child,
    then the floor child replaying its calls and redoing its cryptography."""
    if target.path is None:
        raise NotASuccess("no main path")
    prepared = target.path.prepare(bench)
    handler, handler_err = runner.run(
        HANDLER_CHILD, _handler_job(target, prepared.event, bench.ctx.region), env, python_flags
    )
    refused = _refusal(target, prepared, handler)
    if refused:
        raise NotASuccess(refused)
    job = {"calls": handler["calls"], "crypto": prepared.floor(handler)}
    floor, floor_err = runner.run(FLOOR_CHILD, job, env, python_flags)
    return handler, handler_err, floor, floor_err


class NotASuccess(Exception):
    """A run's answer was not its path's documented success: the row is an error, not a figure."""


def _ms(values: list[float]) -> list[float]:
    return [round(v * 1000, 1) for v in values]


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def measure_cold_start(
    target: ColdStartTarget,
    bench: Bench,
    runner: ChildRunner,
    env: dict[str, str],
    runs: int,
    warmup: int,
) -> dict:
    row: dict[str, Any] = {"function": target.spec.logical_id, "request": target.request}
    if target.path is None:
        return row | {"error": "no main success path in bench/main_paths.py MAIN_PATHS routes to it"}
    row |= {"why": target.path.why, "floor_does": target.path.floor}
    bench.next_target()
    samples: dict[str, list[float]] = {"handler": [], "handler_import": [], "floor": [], "floor_import": []}
    for i in range(warmup + runs):
        # Interleaved, handler then floor, so drift (thermal, other load) touches both alike.
        try:
            handler, _, floor, _ = _run_pair(target, bench, runner, env)
        except (NotASuccess, RuntimeError) as e:
            return row | {"error": str(e)}
        if i >= warmup:
            samples["handler"].append(handler["elapsed_s"])
            samples["handler_import"].append(handler["import_s"])
            samples["floor"].append(floor["elapsed_s"])
            samples["floor_import"].append(floor["import_s"])
        print(
            f"  {target.spec.logical_id} {'warm-up' if i < warmup else f'run {i - warmup + 1}/{runs}'}: "
            f"handler {handler['elapsed_s'] * 1000:.0f} ms, floor {floor['elapsed_s'] * 1000:.0f} ms",
            file=sys.stderr,
            flush=True,
        )
    ratio = statistics.median(samples["handler"]) / statistics.median(samples["floor"])
    return row | {
        "status": handler["status"],
        "runs": runs,
        "handler_median_ms": _median_ms(samples["handler"]),
        "floor_median_ms": _median_ms(samples["floor"]),
        "ratio": round(ratio, 2),
        "budget": COLD_START_BUDGET,
        "over_budget": ratio > COLD_START_BUDGET,
        # Where the time goes: the import part of each side (handler module / boto3 and the
        # floor's cryptography modules), medians.
        "handler_import_median_ms": _median_ms(samples["handler_import"]),
        "floor_import_median_ms": _median_ms(samples["floor_import"]),
        "handler_ms": _ms(samples["handler"]),
        "floor_ms": _ms(samples["floor"]),
        "calls": [_operation(c) for c in handler["calls"]],
        # What the floor's last run computed beside the replayed calls: sizes, and what it built
        # (base64 DER: a signature, a certificate, a CMS, an OCSP response, a time-stamp reply).
        "floor_crypto": {
            k: base64.b64encode(v).decode() if isinstance(v, bytes) else v for k, v in floor["crypto"].items()
        },
        "floor_failed_calls": floor["failed"],
    }


_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s+(.*)$")


def _import_self_ms(stderr: str) -> dict[str, float]:
    """`python -X importtime` output -> self time (ms) per module."""
    modules: dict[str, float] = {}
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            modules[match.group(3).strip()] = int(match.group(1)) / 1000
    return modules


def _by_package(modules: dict[str, float], most: int | None = 6) -> list[dict]:
    """Self time (ms) and module count by top-level package, largest first (>= 1 ms)."""
    spent: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for module, ms in modules.items():
        spent[module.split(".")[0]] += ms
        count[module.split(".")[0]] += 1
    return [
        {"package": pkg, "self_ms": round(ms, 1), "modules": count[pkg]}
        for pkg, ms in spent.most_common(most)
        if ms >= 1.0
    ]


def extra_imports(
    target: ColdStartTarget, bench: Bench, runner: ChildRunner, env: dict[str, str]
) -> tuple[list[dict], list[dict]]:
    """What the handler imports that the floor does not, and what the floor imports (boto3 and
    the cryptography modules its operation needs, which therefore count as floor), by top-level
    package: one more run of each side under `python -X importtime` (which inflates absolutes)."""
    _, handler_err, _, floor_err = _run_pair(target, bench, runner, env, ("-X", "importtime"))
    floor = _import_self_ms(floor_err)
    handler = _import_self_ms(handler_err)
    return _by_package({m: ms for m, ms in handler.items() if m not in floor}), _by_package(floor, None)
