"""Cold start per API function (docs/design.md: handler <= 1.5x floor).

In a fresh interpreter (children.py), importing the handler and serving its first request, against
the floor measured in the same run: a fresh interpreter importing boto3 and making the same AWS
calls with the same parameters. Runs alternate handler, floor, handler, floor ... so drift touches
both. Adding a cold-start request: an entry in COLD_START_EVENTS.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fincert_local.bench.budgets import COLD_START_BUDGET
from fincert_local.bench.children import FLOOR_CHILD, HANDLER_CHILD, ChildRunner
from fincert_local.bench.context import EVENTS_DIR, BenchContext, UsageError, fixture
from fincert_local.gateway import LambdaContext
from fincert_local.template import FunctionSpec, api_routes, authorizer, functions, repo_root


def _fresh_phone_event(name: str, ctx: BenchContext) -> dict:
    """A fixture event whose body texts a new phone number (the SMS limits count per phone)."""
    event = fixture(name)
    body = json.loads(event["body"]) | {"phone": ctx.fresh_phone()}
    event["body"] = json.dumps(body, ensure_ascii=False)
    event["requestContext"]["authorizer"] = ctx.authorizer_context()
    return event


def _enrollment_start_event(ctx: BenchContext) -> dict:
    return _fresh_phone_event("enrollment_start.json", ctx)


def _connection_start_event(ctx: BenchContext) -> dict:
    return _fresh_phone_event("connection_start.json", ctx)


def _authorizer_event(ctx: BenchContext) -> dict:
    event = fixture("authorizer_request.json")
    event["headers"]["Authorization"] = f"Bearer {ctx.api_key}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {ctx.api_key}"]
    return event


# The request a function's cold start serves, by route (METHOD, resource path); the authorizer's
# is AUTHORIZER_EVENT. A function whose routes have no entry here falls back to a fixture in
# tests/events with the same resource and method, used as is.
COLD_START_EVENTS: dict[tuple[str, str], Callable[[BenchContext], dict]] = {
    ("POST", "/v1/enrollments"): _enrollment_start_event,
    ("GET", "/pki/chain.pem"): lambda ctx: fixture("pki_chain.json"),
    ("POST", "/v1/connections"): _connection_start_event,
}
# Requests whose cold start is measured on a documented refusal: the fixture's placeholder
# customer has no account, and the function imports and calls all the same to say so.
EXPECTED_REFUSALS: dict[str, int] = {
    "POST /v1/signatures": 404,
    "OPTIONS /v1/registrations": 403,
    "GET /v1/certificate": 404,
    "GET /v1/ui-tickets/{ticket_id}": 404,
}
AUTHORIZER_EVENT: Callable[[BenchContext], dict] = _authorizer_event


@dataclass(frozen=True)
class ColdStartTarget:
    spec: FunctionSpec
    request: str  # "POST /v1/enrollments", or "authorizer"
    make_event: Callable[[BenchContext], dict]

    @property
    def handler_file(self) -> Path:
        module_path = self.spec.handler.rpartition(".")[0]
        return repo_root() / self.spec.code_uri / (module_path.replace(".", "/") + ".py")


def _fixture_for(method: str, resource: str) -> Callable[[BenchContext], dict] | None:
    for path in sorted(EVENTS_DIR.glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        if event.get("resource") == resource and event.get("httpMethod") == method and "type" not in event:
            return lambda ctx, name=path.name: fixture(name)
    return None


def cold_start_targets(template: dict, only: list[str] | None = None) -> list[ColdStartTarget]:
    """The API functions of template.yaml (route handlers and the authorizer), in template order."""
    specs = functions(template)
    unknown = sorted(set(only or []) - set(specs))
    if unknown:
        raise UsageError(f"unknown functions {unknown}; template.yaml has {sorted(specs)}")
    auth = authorizer(template)
    routes = api_routes(template)
    targets = []
    for function_id, spec in specs.items():
        if only and function_id not in only:
            continue
        if auth is not None and function_id == auth.function_id:
            targets.append(ColdStartTarget(spec, "authorizer", AUTHORIZER_EVENT))
            continue
        own = [r for r in routes if r.function_id == function_id]
        if not own:
            continue  # not an API function (a scheduled job): no cold-start budget
        chosen = next((r for r in own if (r.method, r.path) in COLD_START_EVENTS), None)
        if chosen is not None:
            targets.append(
                ColdStartTarget(
                    spec, f"{chosen.method} {chosen.path}", COLD_START_EVENTS[(chosen.method, chosen.path)]
                )
            )
            continue
        for route in own:
            make_event = _fixture_for(route.method, route.path)
            if make_event is not None:
                targets.append(ColdStartTarget(spec, f"{route.method} {route.path}", make_event))
                break
        else:
            raise UsageError(
                f"{function_id}: no event for any of its routes; add one to COLD_START_EVENTS "
                f"or a fixture to tests/events"
            )
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


def _expected(target: ColdStartTarget, status: Any) -> bool:
    if target.request == "authorizer":
        return status == "Allow"
    return isinstance(status, int) and (status < 400 or EXPECTED_REFUSALS.get(target.request) == status)


def _ms(values: list[float]) -> list[float]:
    return [round(v * 1000, 1) for v in values]


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def measure_cold_start(
    target: ColdStartTarget,
    ctx: BenchContext,
    runner: ChildRunner,
    env: dict[str, str],
    runs: int,
    warmup: int,
) -> dict:
    samples: dict[str, list[float]] = {"handler": [], "handler_import": [], "floor": [], "floor_import": []}
    calls: list[dict] = []
    status: Any = None
    for i in range(warmup + runs):
        # Interleaved, handler then floor, so drift (thermal, other load) touches both alike.
        handler, _ = runner.run(HANDLER_CHILD, _handler_job(target, target.make_event(ctx), ctx.region), env)
        if handler["error"] or not _expected(target, handler["status"]):
            return {
                "function": target.spec.logical_id,
                "request": target.request,
                "error": handler["error"] or f"unexpected response status {handler['status']!r}",
            }
        # The floor replays this run's calls (the enrollment event differs per run).
        floor, _ = runner.run(FLOOR_CHILD, handler["calls"], env)
        calls, status = handler["calls"], handler["status"]
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
    return {
        "function": target.spec.logical_id,
        "request": target.request,
        "status": status,
        "runs": runs,
        "handler_median_ms": _median_ms(samples["handler"]),
        "floor_median_ms": _median_ms(samples["floor"]),
        "ratio": round(ratio, 2),
        "budget": COLD_START_BUDGET,
        "over_budget": ratio > COLD_START_BUDGET,
        # Where the time goes: the import part of each side (handler module / boto3), medians.
        "handler_import_median_ms": _median_ms(samples["handler_import"]),
        "floor_import_median_ms": _median_ms(samples["floor_import"]),
        "handler_ms": _ms(samples["handler"]),
        "floor_ms": _ms(samples["floor"]),
        "calls": [_operation(c) for c in calls],
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


def extra_imports(
    target: ColdStartTarget, ctx: BenchContext, runner: ChildRunner, env: dict[str, str]
) -> list[dict]:
    """The modules the handler imports and the floor does not, by top-level package, largest self
    time first: one run of each side under `python -X importtime` (which inflates absolutes)."""
    flags = ("-X", "importtime")
    handler, handler_err = runner.run(
        HANDLER_CHILD, _handler_job(target, target.make_event(ctx), ctx.region), env, flags
    )
    _, floor_err = runner.run(FLOOR_CHILD, handler["calls"], env, flags)
    floor = _import_self_ms(floor_err)
    by_package: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    for module, ms in _import_self_ms(handler_err).items():
        if module not in floor:
            by_package[module.split(".")[0]] += ms
            modules[module.split(".")[0]] += 1
    return [
        {"package": pkg, "self_ms": round(ms, 1), "modules": modules[pkg]}
        for pkg, ms in by_package.most_common(6)
        if ms >= 1.0
    ]
