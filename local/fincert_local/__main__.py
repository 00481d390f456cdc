"""`python -m fincert_local SUBCOMMAND`: run the local stack, invoke a handler, ...

Adding a subcommand: write `add_arguments(parser)` and `run(args) -> int` functions (in any
module) and add one `Command` to COMMANDS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fincert_local import bench, demo, error_codes, jobs, load, openapi, sandbox, smoke, sri
from fincert_local.state import DEFAULT_STATE, load_state, stack_state
from fincert_local.template import repo_root


@dataclass(frozen=True)
class Command:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --- up ---------------------------------------------------------------------------------------


def _up_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000, help="gateway port (sam local's default)")
    parser.add_argument("--moto-port", type=int, default=5000)
    parser.add_argument(
        "--bank-port",
        type=int,
        default=None,
        help="the demo bank site's port on localhost (default: the gateway's port + 1; 0 picks a free one)",
    )
    parser.add_argument("--no-bank", action="store_true", help="do not run the demo bank site")
    parser.add_argument("--region", default="ap-northeast-2")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    parser.add_argument(
        "--no-moto-fixes",
        action="store_true",
        help="run moto without fincert_local.moto_fixes' corrections (to measure what they change)",
    )
    parser.add_argument(
        "--ttl-sweep-seconds",
        type=float,
        default=10.0,
        help="how often expired items (TTL attribute in the past) are deleted; 0 never",
    )


def _configure_logging() -> None:
    # One access-log line per gateway request; botocore's and moto's INFO chatter stays hidden.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # it would raise itself to INFO otherwise
    # Our own handler, not the root's: Powertools puts a filter on the root handlers that drops
    # every record whose logger name contains its service name ("fincert" is in "fincert_local").
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    local_log = logging.getLogger("fincert_local")
    local_log.addHandler(handler)
    local_log.setLevel(logging.INFO)
    local_log.propagate = False


# `up`'s exit status when a port it was told to use is taken (the message names it).
PORT_IN_USE = 3


def next_steps(gateway_url: str, state_file: Path) -> str:
    """What to do with the stack just started, printed after it starts."""
    return "\n".join(
        [
            "",
            "Next steps (in another shell, in this checkout):",
            "  make demo       enroll + issue a certificate, checked with openssl",
            "  make sandbox    a demo customer and the settings a CSC client needs",
            f"  API docs        {gateway_url}/_local/docs  (Swagger UI; the document: /_local/openapi.json)",
            "  operator CLI    .venv/bin/fincert-admin list-institutions  (finds this stack by itself here;",
            "                  from elsewhere, first:)",
            f"  export FINCERT_LOCAL_STATE={state_file}",
            "",
        ]
    )


def up(args: argparse.Namespace) -> int:
    from fincert.hosted import script_tag

    from fincert_local.bootstrap import bootstrap
    from fincert_local.demo_bank import DemoBank
    from fincert_local.stack import LocalStack, PortInUse

    _configure_logging()
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())

    stack = LocalStack(
        host=args.host,
        moto_port=args.moto_port,
        gateway_port=args.port,
        region=args.region,
        moto_corrections=not args.no_moto_fixes,
        ttl_sweep_seconds=args.ttl_sweep_seconds or None,
    )
    try:
        stack.start()
    except PortInUse as e:
        print(f"fincert_local: {e}", file=sys.stderr)
        return PORT_IN_USE
    bank: DemoBank | None = None
    try:
        if not args.no_bank:
            bank_port = args.bank_port
            if bank_port is None:
                bank_port = args.port + 1 if args.port else 0
            try:
                bank = DemoBank(host=args.host, port=bank_port)  # bound now: its origin is known
            except OSError:
                # One more than the gateway's unless chosen; `make local PORT=...` moves both.
                clash = PortInUse("the demo bank site", args.host, bank_port, "BANK_PORT")
                print(f"fincert_local: {clash}", file=sys.stderr)
                return PORT_IN_USE
        output = bootstrap(stack, demo_site_origin=bank.origin if bank else None)
        if bank is not None:
            bank.start(stack.gateway_url, output["demo_site"]["api_key"])
        state = stack_state(stack, output)
        if bank is not None:
            state["demo_site_url"] = bank.origin
        args.state.parent.mkdir(parents=True, exist_ok=True)
        args.state.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        print(f"gateway  {stack.gateway_url}")
        print(f"moto     {stack.moto_url}")
        if output:
            # The demo site's key stays in the state file: the site's back end holds it.
            shown = {k: v for k, v in output.items() if k != "demo_site"}
            print(json.dumps(shown, indent=2))
        if bank is not None:
            print(f"bank     {bank.origin}  (the demo bank site: open it in a browser)")
            print(f"sms      {stack.gateway_url}/_local/sms?phone=%2B8210...  (the texts the stack 'sent')")
            print(f"sdk      {script_tag(stack.gateway_url)}")
        print(f"state    {args.state}")
        print(next_steps(stack.gateway_url, args.state.resolve()))
        print("Ctrl-C to stop.", flush=True)
        stopping.wait()
    finally:
        if bank is not None:
            bank.stop()
        stack.stop()
        args.state.unlink(missing_ok=True)
    return 0


# --- invoke -----------------------------------------------------------------------------------


def _invoke_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("function_id", metavar="FUNCTION_ID", help="logical id in template.yaml")
    parser.add_argument("event_file", metavar="EVENT_FILE", type=Path, help="event JSON ('-' for stdin)")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)


def invoke(args: argparse.Namespace) -> int:
    """Invoke one handler with one event against a running `up`: `sam local invoke -e` without Docker."""
    from fincert_local.gateway import Gateway
    from fincert_local.template import load_template

    state = load_state(args.state)
    if state is None:
        return 2
    os.environ.update(state["environment"])  # AWS_ENDPOINT_URL, credentials, the template's variables
    raw = sys.stdin.read() if str(args.event_file) == "-" else args.event_file.read_text(encoding="utf-8")
    gateway = Gateway(load_template(), repo_root(), region=state["region"])
    if args.function_id not in gateway.functions:
        print(
            f"no function {args.function_id}; template.yaml has {sorted(gateway.functions)}", file=sys.stderr
        )
        return 2
    try:
        # As `sam local invoke`: the function's own output (log lines, EMF metrics) on stderr,
        # the result alone on stdout.
        with contextlib.redirect_stdout(sys.stderr):
            result = gateway.invoke(args.function_id, json.loads(raw))
    except Exception as e:
        # The shape Lambda reports a function error in.
        error = {
            "errorMessage": str(e),
            "errorType": type(e).__name__,
            "stackTrace": traceback.format_tb(e.__traceback__),
        }
        print(json.dumps(error, indent=2))
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


COMMANDS: dict[str, Command] = {
    "up": Command("run moto + the gateway serving template.yaml's routes", _up_arguments, up),
    "invoke": Command("invoke one function with one event JSON file", _invoke_arguments, invoke),
    "demo": Command(
        "enroll + issue against a running stack, check with openssl", demo.add_arguments, demo.run
    ),
    "bench": Command(
        "measure the budgets of docs/design.md (cold start, round trips)", bench.add_arguments, bench.run
    ),
    "load": Command(
        "N customers signing for a bounded time against a local stack: throughput, latency, errors, "
        "memory, and the floor of the same AWS calls straight to moto",
        load.add_arguments,
        load.run,
    ),
    "sandbox": Command(
        "seed a demo customer and print the CSC client settings (URL, credential, token, PIN)",
        sandbox.add_arguments,
        sandbox.run,
    ),
    "openapi": Command(
        "print or write the OpenAPI document generated from the code", openapi.add_arguments, openapi.run
    ),
    "errors": Command(
        "print or write the table of every error code (docs/errors.md)",
        error_codes.add_arguments,
        error_codes.run,
    ),
    "sri": Command(
        "print the <script> tag (with its SRI hash) that loads fincert.js", sri.add_arguments, sri.run
    ),
    "smoke": Command(
        "check a deployment (or the local stack) over HTTP: PKI, OCSP, CRL, CSC info, the authorizer's "
        "refusals; with --journey, an issuance to your own phone",
        smoke.add_arguments,
        smoke.run,
    ),
    "run-job": Command(
        "fire a daily job (renewal, purge) in the running stack as EventBridge would, then drain its "
        "SQS queue into its worker",
        jobs.add_arguments,
        jobs.run,
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fincert_local", description="fincert-cloud's local stack"
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.add_arguments(subparsers.add_parser(name, help=command.help, description=command.help))
    args = parser.parse_args(argv)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
