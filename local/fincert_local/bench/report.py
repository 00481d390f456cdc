"""The bench's printed report: one section per figure, each row with its budget and verdict
(ok / OVER / - for no budget). Over budget is reported, not failed: the bench exits 0 all the same.
"""

from __future__ import annotations

from collections import Counter

from fincert_local.bench.budgets import COLD_START_BUDGET, JOBS_BUDGET, SIGNING_CPU_BUDGET


def _summarise(operations: list[str]) -> str:
    counts = Counter(operations)
    return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in counts.items()) or "(none)"


def _verdict(over: bool | None) -> str:
    return "-" if over is None else ("OVER" if over else "ok")


def report(result: dict) -> str:
    lines = [
        f"fincert-cloud benchmark, {result['date']}, {result['machine']['cpus']} CPUs, "
        f"Python {result['machine']['python']}, AWS = moto {result['machine']['moto']} server in this process",
        f"load average (1 min) {result['machine']['load_average_1min_at_start']} at start, "
        f"{result['machine']['load_average_1min_at_end']} at end",
    ]
    if "cold_start" in result:
        lines += _cold_start(result)
    if "round_trips" in result:
        lines += _round_trips(result)
    if "signing_cpu" in result:
        lines += _signing_cpu(result)
    if result.get("jobs"):
        lines += _jobs(result)
    if "cost" in result:
        lines += _cost(result)
    return "\n".join(lines)


def _cold_start(result: dict) -> list[str]:
    m = result["method"]
    width = max([21, *(len(row["request"]) for row in result["cold_start"])])
    lines = [
        "",
        f"Cold start (docs/design.md: handler <= {COLD_START_BUDGET}x floor), medians of {m['runs']} runs "
        f"after {m['warmup']} discarded warm-up run(s)",
        "  Every run is a fresh `python` process; t0 is its first statement, so interpreter startup is",
        "  excluded from both sides and every import is included.",
        "  handler = import functions/<fn>/app.py as the gateway does + serve one request on the",
        "            function's main success path (bench/main_paths.py), with fresh state per run",
        "            made beforehand in this process; any other answer is an ERROR row.",
        "  floor   = import boto3 and the cryptography modules the operation needs + create the same",
        "            clients + replay the handler's AWS calls with the same parameters (a replayed",
        "            write failing its condition still counts as made) + the operation's own",
        "            cryptography (op below; docs/benchmarks.md says what each does).",
        "  Runs alternate handler, floor, handler, floor ... so drift touches both.",
        "",
        f"  {'function':<19} {'request':<{width}} {'handler ms':>10} {'(import)':>9} {'floor ms':>9} "
        f"{'(import)':>9} {'ratio':>6} {'budget':>6}  verdict  {'floor op':<17}  AWS calls",
    ]
    for row in result["cold_start"]:
        if "error" in row:
            last_line = row["error"].strip().splitlines()[-1]
            lines.append(f"  {row['function']:<19} {row['request']:<{width}} ERROR: {last_line}")
            continue
        lines.append(
            f"  {row['function']:<19} {row['request']:<{width}} {row['handler_median_ms']:>10.1f} "
            f"{row['handler_import_median_ms']:>9.1f} {row['floor_median_ms']:>9.1f} "
            f"{row['floor_import_median_ms']:>9.1f} {row['ratio']:>6.2f} {row['budget']:>5.1f}x  "
            f"{_verdict(row['over_budget']):<7}  {row['floor_crypto']['op']:<17}  {_summarise(row['calls'])}"
        )
    explained = [row for row in result["cold_start"] if row.get("extra_imports")]
    if explained:
        lines.append(
            "  Imports the floor does not make, self ms by package (one run under python -X importtime):"
        )
        for row in explained:
            extra = ", ".join(f"{e['package']} {e['self_ms']:.0f}" for e in row["extra_imports"])
            floor = ", ".join(f"{e['package']} {e['self_ms']:.0f}" for e in row.get("floor_imports", [])[:6])
            lines.append(f"    {row['function']}: {extra}  (the floor's own: {floor})")
    return lines


def _round_trips(result: dict) -> list[str]:
    width = max([20, *(len(row["request"]) for row in result["round_trips"])])
    lines = [
        "",
        "AWS round trips per request on a warm container (docs/design.md): botocore calls counted in",
        "  process through the local gateway, after one full issuance warmed the container;",
        "  the authorizer's calls and SMS (sns.Publish) are excluded and shown in brackets.",
        "",
        f"  {'request':<{width}} {'count':>5} {'budget':>6}  verdict  operations",
    ]
    for row in result["round_trips"]:
        budget = "-" if row["budget"] is None else str(row["budget"])
        over = None if row["budget"] is None else row["over_budget"]
        excluded = f"  [{', '.join(row['excluded'])}]" if row["excluded"] else ""
        lines.append(
            f"  {row['request']:<{width}} {row['count']:>5} {budget:>6}  {_verdict(over):<7}  "
            f"{_summarise(row['operations'])}{excluded}"
        )
    return lines


def _signing_cpu(result: dict) -> list[str]:
    n = result["method"]["signing_requests"]
    lines = [
        "",
        f"CPU per signature on a warm container (docs/design.md: service <= {SIGNING_CPU_BUDGET}x floor "
        f"for RSA-2048; EC P-256 beside it, no budget), medians of {n} requests",
        "  service = process CPU inside the Lambda handlers the request runs (authorizer included),",
        "            minus the process CPU inside their botocore calls (the client's and moto's work);",
        "  floor   = load the same key DER without RSA re-validation + sign the SHA-256 digest; for",
        "            POST /v1/signatures: + build the CMS SignedData, its OCSP answer (responder key",
        "            loaded without re-validation) and its time-stamp token (the TSA's KMS Sign left",
        "            out, as on the service side); same run, alternately.",
        "",
        f"  {'request':<26} {'key':<8} {'service ms':>10} {'floor ms':>9} {'ratio':>6} {'budget':>6}  "
        "verdict  service ms by function; botocore ms taken out; floor ms by part",
    ]
    for row in result["signing_cpu"]:
        handlers = ", ".join(f"{fn} {ms:.2f}" for fn, ms in row["service_cpu_by_function_median_ms"].items())
        parts = ", ".join(f"{part} {ms:.2f}" for part, ms in row["floor_parts_median_ms"].items())
        budget = "-" if row["budget"] is None else f"{row['budget']:.1f}x"
        lines.append(
            f"  {row['request']:<26} {row['key_algorithm']:<8} {row['service_cpu_median_ms']:>10.2f} "
            f"{row['floor_cpu_median_ms']:>9.2f} {row['ratio']:>6.2f} {budget:>6}  "
            f"{_verdict(row['over_budget']):<7}  {handlers}; botocore {row['botocore_cpu_median_ms']:.2f}; "
            f"{parts}"
        )
    return lines


def _jobs(result: dict) -> list[str]:
    jobs = result["jobs"]
    lines = [
        "",
        f"Scheduled jobs (docs/design.md: DynamoDB items read to find what is due <= {JOBS_BUDGET} per due",
        f"  item): {jobs['credentials']:,} accounts with one credential each, loaded by BatchWriteItem in "
        f"{jobs['load_seconds']}s;",
        "  each planner called with a scheduled event (and 15 minutes, see docs/benchmarks.md);",
        "  items read = what its `due` queries returned, not moto's walk of its index.",
        "",
        f"  {'job':<8} {'due':>6} {'enqueued':>8} {'items read':>10} {'per due':>8} {'budget':>6}  verdict  calls",
    ]
    for row in jobs["rows"]:
        calls = ", ".join(f"{op} x{n}" for op, n in row["operations"].items())
        lines.append(
            f"  {row['job']:<8} {row['due']:>6} {row['enqueued']:>8} {row['items_read']:>10} "
            f"{row['items_read_per_due_item']:>8.3f} {row['budget']:>6}  {_verdict(row['over_budget']):<7}  {calls}"
        )
    return lines


def _cost(result: dict) -> list[str]:
    cost = result["cost"]
    prices = cost["prices"]
    lines = [
        "",
        f"Cost per million operations, USD, {prices['region']} list prices of {prices['as_of']} "
        f"({prices['file']}; recalled, not checked online: see its source)",
        "  counted from the calls the handlers made on a warm container (authorizer uncached), DynamoDB",
        "  units from the items' real sizes, Lambda GB-s from the template's MemorySize x (service CPU",
        "  stretched below 1,769 MB + an assumed wait per AWS call); SMS counted apart, unpriced.",
        *(
            [f"  WHAT-IF memory sizes (not the template's): {cost['memory_overrides']}"]
            if cost.get("memory_overrides")
            else []
        ),
        "",
        f"  {'operation':<40} {'API GW':>7} {'Lambda':>7} {'(auth)':>7} {'DDB':>7} {'KMS':>7} {'SQS':>5} "
        f"{'total':>7} {'budget':>7}  verdict  counted",
    ]
    for row in cost["rows"]:
        usd = row["usd_per_million"]
        lam = usd["lambda_requests"] + usd["lambda_duration"]
        ddb = usd["dynamodb_reads"] + usd["dynamodb_writes"]
        budget = "-" if row["budget_usd_per_million"] is None else f"{row['budget_usd_per_million']:.0f}"
        kms = ", ".join(
            f"{n} {kind.removesuffix('_request').replace('_', ' ')}"
            for kind, n in row["kms_requests"].items()
        )
        counted = (
            f"{row['api_requests']} req, {row['lambda_invocations']} inv "
            f"({row['lambda_gb_s'] * 1000:.1f} GB-ms), {row['dynamodb_rru']:g} RRU, {row['dynamodb_wru']:g} WRU "
            f"({row['dynamodb_index_wru']:g} index), {kms or 'no KMS'}, {row['sms']} SMS"
        )
        lines.append(
            f"  {row['operation']:<40} {usd['api_gateway']:>7.2f} {lam:>7.2f} {row['authorizer_usd_per_million']:>7.2f} "
            f"{ddb:>7.2f} {usd['kms']:>7.2f} {usd['sqs']:>5.2f} {row['total_usd_per_million']:>7.2f} {budget:>7}  "
            f"{_verdict(row['over_budget']):<7}  {counted}"
        )
    lines.append(
        f"  For comparison (docs/design.md): AWS Private CA issues at ${cost['private_ca_usd_per_million_certificates']:,.0f}"
        f" per million certificates at its cheapest tier, plus ${cost['private_ca_usd_per_ca_month']:,.0f} per CA-month."
    )
    return lines
