"""The whole run: one moto server in this process (the local stack, template.yaml's resources, a
bootstrapped CA and one registered institution), then each figure in turn: cold starts (in child
interpreters), round trips and the CPU per signature on a warm container, the jobs' items read
(--only picks some). Returns the results as one dict, what report.py prints and --json writes.
"""

from __future__ import annotations

import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fincert_local.bench.budgets import COLD_START_BUDGET, SIGNING_CPU_BUDGET
from fincert_local.bench.children import ChildRunner
from fincert_local.bench.cold_start import NotASuccess, cold_start_targets, extra_imports, measure_cold_start
from fincert_local.bench.context import INSTITUTION_ID, BenchContext
from fincert_local.bench.cost import DEFAULT_COST_ROUNDS, measure_cost
from fincert_local.bench.jobs import DEFAULT_JOBS_CREDENTIALS, measure_jobs
from fincert_local.bench.main_paths import ORIGIN, Bench, CapturingGateway
from fincert_local.bench.recording import AttributingGateway
from fincert_local.bench.round_trips import WarmContainer, measure_round_trips
from fincert_local.bench.signing_cpu import DEFAULT_SIGNING_REQUESTS, measure_signing_cpu
from fincert_local.template import authorizer, load_template, repo_root

# What --only selects; the jobs' figure also needs --jobs-credentials > 0.
FIGURES = frozenset({"cold-start", "round-trips", "signing-cpu", "jobs", "cost"})


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def bench(
    runs: int,
    warmup: int,
    only: list[str] | None,
    imports: str = "over",
    jobs_credentials: int = DEFAULT_JOBS_CREDENTIALS,
    figures: frozenset[str] = FIGURES,
    signing_requests: int = DEFAULT_SIGNING_REQUESTS,
    cost_rounds: int = DEFAULT_COST_ROUNDS,
    cost_memory: dict[str, int] | None = None,
) -> dict:
    from cryptography.hazmat.primitives.serialization import Encoding
    from fincert.admin import bootstrap_ca, ensure_ocsp_responder
    from fincert.domain.institution_records import Scope
    from fincert.domain.institutions import register_institution
    from fincert.wiring import services, use_services

    from fincert_local.stack import LocalStack

    template = load_template()
    targets = cold_start_targets(template, only)  # an unknown --functions name is refused first
    auth = authorizer(template)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "moto": _moto_version(),
            # Other work on the machine skews both sides; a figure taken under load says so here.
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        },
        "method": {
            "runs": runs,
            "warmup": warmup,
            "statistic": "median",
            "cold_start_budget": COLD_START_BUDGET,
            "figures": sorted(figures),
            "signing_requests": signing_requests,
            "signing_cpu_budget": SIGNING_CPU_BUDGET,
            "cost_rounds": cost_rounds,
        },
    }
    stack = LocalStack(authorizer_cache=False)
    stack.start()
    try:
        use_services(None)  # settings from the environment the stack just set
        svc = services()
        bootstrap_ca(svc)
        responder, _ = ensure_ocsp_responder(svc)  # what `fincert-admin bootstrap-ca` creates too
        tsa, _ = svc.ensure_timestamp_authority()  # and the TSA: every signature carries a token
        scopes = [s.value for s in Scope]
        # The origin: the CORS preflight and the window's ticket are measured on a registered one.
        _, api_key = register_institution(svc.store, INSTITUTION_ID, "Demo Bank", scopes, [ORIGIN])
        ctx = BenchContext(region=stack.region, api_key=api_key)
        aws_env = {
            name: stack.environment[name]
            for name in (
                "AWS_ENDPOINT_URL",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_DEFAULT_REGION",
                "AWS_REGION",
            )
        }
        resources = stack.resources
        if resources is None:
            raise RuntimeError("the local stack started without resources")
        if "cold-start" in figures:
            # Each run's state (enrollments, sessions, SADs, tickets) is made through the gateway
            # in this process, on a container of its own.
            bench_state = Bench(
                WarmContainer(
                    CapturingGateway(template, repo_root(), region=stack.region, authorizer_cache=False), ctx
                ),
                issuing_certificate=svc.certificate_authority().issuing_certificate.public_bytes(
                    Encoding.DER
                ),
                responder_certificate=responder.certificate_der,
                tsa_certificate=tsa.certificate_der,
                tsa_policy_oid=svc.settings.tsa_policy_oid,
            )
            result["cold_start"] = _cold_starts(
                targets, stack, bench_state, aws_env, resources, runs, warmup, imports
            )

        use_services(None)  # a fresh container: nothing the bootstrap cached
        gateway = AttributingGateway(template, repo_root(), region=stack.region, authorizer_cache=False)
        container = WarmContainer(gateway, ctx)
        if "round-trips" in figures:
            result["round_trips"] = measure_round_trips(container, auth.function_id if auth else None)
        if "signing-cpu" in figures:
            result["signing_cpu"] = measure_signing_cpu(container, signing_requests)
        if "cost" in figures:
            result["cost"] = measure_cost(container, cost_rounds, cost_memory)
        if "jobs" in figures and jobs_credentials > 0:
            result["jobs"] = measure_jobs(gateway, stack.region, jobs_credentials)
    finally:
        use_services(None)
        stack.stop()
    result["machine"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    return result


def _cold_starts(
    targets: list,
    stack: Any,
    bench_state: Bench,
    aws_env: dict[str, str],
    resources: Any,
    runs: int,
    warmup: int,
    imports: str,
) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="fincert-bench-") as workdir:
        runner = ChildRunner(aws_env, Path(workdir))
        rows = []
        for target in targets:
            env = runner.child_env(
                {
                    **resources.function_environment(target.spec.logical_id),
                    "PKI_BASE_URL": stack.environment["PKI_BASE_URL"],
                }
            )
            row = measure_cold_start(target, bench_state, runner, env, runs, warmup)
            if "error" not in row and (imports == "all" or (imports == "over" and row["over_budget"])):
                try:
                    row["extra_imports"], row["floor_imports"] = extra_imports(
                        target, bench_state, runner, env
                    )
                except (NotASuccess, RuntimeError) as e:
                    row["error"] = f"the -X importtime run: {e}"
            rows.append(row)
    return rows
