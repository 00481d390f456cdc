"""`python -m fincert_local bench` (and `python -m fincert_local.bench`): the command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from fincert_local.bench.context import UsageError
from fincert_local.bench.cost import DEFAULT_COST_ROUNDS
from fincert_local.bench.jobs import DEFAULT_JOBS_CREDENTIALS
from fincert_local.bench.report import report
from fincert_local.bench.signing_cpu import DEFAULT_SIGNING_REQUESTS
from fincert_local.bench.suite import FIGURES, bench

DEFAULT_RUNS = 7
DEFAULT_WARMUP = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="cold-start runs per side (median)")
    parser.add_argument(
        "--warmup", type=int, default=DEFAULT_WARMUP, help="discarded runs first (page cache, .pyc)"
    )
    parser.add_argument(
        "--functions",
        action="append",
        metavar="ID[,ID...]",
        help="only these template.yaml functions' cold starts (default: every API function)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--jobs-credentials",
        type=int,
        default=DEFAULT_JOBS_CREDENTIALS,
        metavar="N",
        help="credentials loaded for the scheduled jobs' items-read measurement (0 skips it)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="FIGURE[,FIGURE...]",
        help=f"only these figures (default: all): {', '.join(sorted(FIGURES))}",
    )
    parser.add_argument(
        "--signing-requests",
        type=int,
        default=DEFAULT_SIGNING_REQUESTS,
        metavar="N",
        help="requests per row of the CPU-per-signature figure (median)",
    )
    parser.add_argument(
        "--cost-rounds",
        type=int,
        default=DEFAULT_COST_ROUNDS,
        metavar="N",
        help="measured rounds per operation of the cost model (the round with the median total is reported)",
    )
    parser.add_argument(
        "--cost-memory",
        action="append",
        metavar="FUNCTION=MB[,FUNCTION=MB...]",
        help="price the cost model as if these functions had this MemorySize (what-if; template.yaml unchanged)",
    )
    parser.add_argument(
        "--imports",
        choices=["over", "all", "none"],
        default="over",
        help="list what a handler imports beyond the floor (python -X importtime, one extra run "
        "per side) for the functions over budget (default), all of them, or none",
    )


def run(args: argparse.Namespace) -> int:
    if args.runs < 1 or args.warmup < 0:
        print("--runs must be >= 1 and --warmup >= 0", file=sys.stderr)
        return 2
    if args.cost_rounds < 1:
        print("--cost-rounds must be >= 1", file=sys.stderr)
        return 2
    cost_memory: dict[str, int] = {}
    for value in args.cost_memory or []:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            name, _, mb = pair.partition("=")
            if not mb.isdigit() or not 128 <= int(mb) <= 10240:
                print(f"--cost-memory: {pair!r} is not FUNCTION=MB (128-10240)", file=sys.stderr)
                return 2
            cost_memory[name] = int(mb)
    if args.signing_requests < 1:
        print("--signing-requests must be >= 1", file=sys.stderr)
        return 2
    only = [
        name.strip() for value in args.functions or [] for name in value.split(",") if name.strip()
    ] or None
    figures = (
        frozenset(name.strip() for value in args.only or [] for name in value.split(",") if name.strip())
        or FIGURES
    )
    if unknown := figures - FIGURES:
        print(
            f"bench: unknown figure(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(FIGURES))}",
            file=sys.stderr,
        )
        return 2
    # moto's server and werkzeug would log every request.
    for name in ("werkzeug", "moto", "botocore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        result = bench(
            args.runs,
            args.warmup,
            only,
            args.imports,
            args.jobs_credentials,
            figures,
            args.signing_requests,
            args.cost_rounds,
            cost_memory,
        )
    except UsageError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    print(report(result), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    failed = any("error" in row for row in result.get("cold_start", []))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fincert_local.bench", description="measure the performance budgets of docs/design.md"
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
