"""`python -m fincert_local load`: does the local stack hold load? (issue 12, docs/benchmarks.md)

N customers (threads) sign for a bounded time against a local stack: one it starts itself on free
loopback ports, or one already running
(`--state`, `--url`). Each customer is issued a certificate and connected once (the flows of
demo.py and sandbox.py), then loops either CSC credentials/authorize + signatures/signHash
(`--flow csc`, the default) or POST /v1/signatures (`--flow content`). A stack it starts runs in this process (its RSS is this process's, nearly
all of it the stack's); for a running one, pass `--pid` for its RSS.

Printed: signatures/s, latency p50/p95/p99, errors (5xx counted apart: any 5xx, or a request that
got no answer, makes the command exit 1), the stack process's RSS before and after the signing
(read from /proc/<pid>/status), the items the table gained and the growth net of them, and the
throughput of the first vs the last minute (first vs last third for runs under two minutes).

The customers' threads run in this process, beside the stack it started, or with
`--clients-process` in a process of their own (their HTTP work is then not in the stack's process).

Beside it, the floor: the AWS calls one signature makes (recorded by running the same two
requests through the gateway in this process, against the stack's moto) replayed straight to the
stack's moto server by the same number of threads of the stack's own process (when this command
started it), so through the same process, the same serialisation of DynamoDB requests and the same
corrections. The ratio stack / floor is what the
budget (>= 0.8) is about: what the gateway and the handlers cost on top of moto.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import hashlib
import json
import os
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from fincert_local.demo import DEMO_PIN, demo_customer, enroll, latest_sms_code
from fincert_local.load_common import dynamodb_client as _dynamodb
from fincert_local.load_common import percentile, rss_mb, run_threads
from fincert_local.state import DEFAULT_STATE, stack_state
from fincert_local.template import repo_root

SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
BUDGET_RATIO = 0.8  # throughput >= 0.8x the floor
BUDGET_MEMORY_MB = 100  # growth net of the items stored, over 5 minutes
BUDGET_STEADY = 0.9  # last-minute throughput >= 0.9x the first


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=4, help="concurrent customers (threads)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they sign")
    parser.add_argument("--flow", choices=["csc", "content"], default="csc")
    parser.add_argument("--floor-seconds", type=float, default=20.0, help="0: no floor")
    parser.add_argument("--url", help="gateway of a running stack (default: start one)")
    parser.add_argument("--state", type=Path, help=f"state file of a running stack (e.g. {DEFAULT_STATE})")
    parser.add_argument("--pid", type=int, help="the running stack's process id, for its RSS")
    parser.add_argument("--no-moto-fixes", action="store_true", help="start the stack with plain moto")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="customers doing mixed operations, then the invariants checked from the stored state (fincert_local.mixed)",
    )
    parser.add_argument(
        "--key-algorithm", choices=["RSA_2048", "EC_P256"], default="EC_P256", help="--mixed only"
    )
    parser.add_argument("--seed", type=int, help="--mixed only: the customers' random choices")
    parser.add_argument(
        "--clients-process",
        action="store_true",
        help="run the signing customers' threads in a process of their own, so their HTTP work does not "
        "share the stack's process (default: in this process, beside the stack)",
    )


# --- the stack --------------------------------------------------------------------------------


@dataclass
class Target:
    url: str
    api_key: str
    state: dict
    pid: int | None


@contextlib.contextmanager
def started_stack(moto_fixes: bool) -> Iterator[Target]:
    """The local stack in this process (LocalStack + bootstrap, as `up` runs it), so the floor's
    threads can share its process, its moto server and its DynamoDB lock."""
    from fincert_local.bootstrap import bootstrap
    from fincert_local.stack import LocalStack

    # Every customer gets a fresh phone number; the limit is only lifted for the load's own bank.
    with _environment({"SMS_PER_PHONE_PER_HOUR": "1000"}):
        stack = LocalStack(moto_corrections=moto_fixes)
        stack.start()
        try:
            output = bootstrap(stack)
            state = stack_state(stack, output)
            yield Target(stack.gateway_url, output["api_key"], state, os.getpid())
        finally:
            stack.stop()


# --- customers --------------------------------------------------------------------------------


@dataclass
class Customer:
    base: str
    credential_id: str
    token: str
    http: requests.Session = field(default_factory=requests.Session)

    def post(self, path: str, body: dict) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.post(self.base + path, json=body, headers=headers, timeout=60)


def new_customer(base: str, api_key: str) -> Customer:
    """Issued and connected once, as sandbox.py does it."""
    person = demo_customer("RSA_2048")
    issued = enroll(base, api_key, person, say=lambda _: None)
    identity = {k: person[k] for k in ("name", "phone", "birth_date")}
    auth = {"Authorization": f"Bearer {api_key}"}
    started = requests.post(f"{base}/v1/connections", json=identity, headers=auth, timeout=60)
    started.raise_for_status()
    code = latest_sms_code(base, person["phone"])
    confirm = f"{base}/v1/connections/{started.json()['verification_id']}/confirm"
    session = requests.post(confirm, json={"sms_code": code}, headers=auth, timeout=60)
    session.raise_for_status()
    return Customer(base, issued["credential_id"], session.json()["session_token"])


def _hash(n: int) -> str:
    return base64.b64encode(hashlib.sha256(f"document {n}".encode()).digest()).decode()


def signature_steps(
    customer: Customer, flow: str, n: int
) -> tuple[list[tuple[str, Callable[[], dict]]], dict[str, Any]]:
    """The requests of one signature, in order, and where their answers go (by the path's last
    part): each body is built when it is sent, from the answers before it."""
    answers: dict[str, Any] = {}
    if flow == "content":
        body = {
            "contents": [{"text": f"transfer {n}"}],
            "sign_type": "transfer",
            "formats": ["raw"],
            "pin": DEMO_PIN,
        }
        return [("/v1/signatures", lambda: body)], answers
    digest = _hash(n)
    authorize = {
        "credentialID": customer.credential_id,
        "numSignatures": 1,
        "PIN": DEMO_PIN,
        "hash": [digest],
    }

    def sign_hash() -> dict:
        sad = answers["authorize"]["SAD"]
        return {
            "credentialID": customer.credential_id,
            "SAD": sad,
            "hash": [digest],
            "signAlgo": SHA256_WITH_RSA,
        }

    return [
        ("/csc/v1/credentials/authorize", lambda: authorize),
        ("/csc/v1/signatures/signHash", sign_hash),
    ], answers


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Tally:
    started: float
    done: list[tuple[float, float]] = field(default_factory=list)  # (end since start, latency s)
    statuses: dict[int, int] = field(default_factory=dict)  # non-2xx answers by status
    transport_errors: int = 0
    samples: dict[int, str] = field(default_factory=dict)  # one answer per non-2xx status
    lock: threading.Lock = field(default_factory=threading.Lock)


def _sign_loop(customer: Customer, flow: str, tally: Tally, until: float, offset: int) -> None:
    n = offset
    while time.monotonic() < until:
        n += 1
        steps, answers = signature_steps(customer, flow, n)
        began = time.monotonic()
        ok = True
        for path, body in steps:
            try:
                response = customer.post(path, body())
            except requests.RequestException:
                with tally.lock:
                    tally.transport_errors += 1
                ok = False
                break
            if response.status_code >= 300:
                with tally.lock:
                    tally.samples.setdefault(response.status_code, f"{path}: {response.text[:300]}")
                    tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
                ok = False
                break
            answers[path.rsplit("/", 1)[-1]] = response.json()
        if ok:
            end = time.monotonic()
            with tally.lock:
                tally.done.append((end - tally.started, end - began))


def sign_for(customers: list[tuple[str, str, str]], flow: str, seconds: float) -> tuple[Tally, float]:
    """The customers (base URL, credential id, session token), one thread each, signing for
    `seconds`: what they got, and how long it took."""
    signing = [Customer(base, credential_id, token) for base, credential_id, token in customers]
    tally = Tally(started=time.monotonic())
    elapsed = run_threads(
        lambda i, until: _sign_loop(signing[i], flow, tally, until, i * 1_000_000), len(signing), seconds
    )
    return tally, elapsed


def _signing_process(customers: list[tuple[str, str, str]], flow: str, seconds: float, out: Any) -> None:
    tally, elapsed = sign_for(customers, flow, seconds)
    out.put((tally.done, tally.statuses, tally.transport_errors, tally.samples, elapsed))


def _sign_in_a_process_of_their_own(
    customers: list[Customer], flow: str, seconds: float
) -> tuple[Tally, float]:
    """The customers are the stack's clients, not part of it: in a process of their own, their
    HTTP work does not take the GIL of the process the stack (and the floor) runs in."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # the stack's process has threads: no fork
    out = context.Queue()
    data = [(c.base, c.credential_id, c.token) for c in customers]
    process = context.Process(target=_signing_process, args=(data, flow, seconds, out), daemon=True)
    process.start()
    done, statuses, transport_errors, samples, elapsed = out.get(timeout=seconds + 600)
    process.join(timeout=30)
    tally = Tally(
        started=0.0, done=done, statuses=statuses, transport_errors=transport_errors, samples=samples
    )
    return tally, elapsed


def windows(done: list[tuple[float, float]], elapsed: float) -> tuple[str, float, float]:
    """Throughput (signatures/s) of the first and last window: a minute, or a third under 2 min."""
    width = 60.0 if elapsed >= 120 else elapsed / 3
    first = sum(1 for end, _ in done if end < width) / width
    last = sum(1 for end, _ in done if end >= elapsed - width) / width
    return ("minute" if width == 60.0 else f"third ({width:.0f} s)"), first, last


# --- the floor --------------------------------------------------------------------------------


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def record_calls(state: dict, customer: Customer, flow: str) -> list[dict]:
    """The AWS calls one signature makes: the same requests through the gateway in this process
    (authorizer and handler, template.yaml's routes), against the stack's moto."""
    from botocore.client import BaseClient

    from fincert_local.gateway import Gateway
    from fincert_local.template import load_template

    calls: list[dict] = []
    recording = threading.get_ident()
    original = BaseClient._make_api_call

    def _make_api_call(self: Any, operation: str, params: dict) -> Any:
        if threading.get_ident() == recording:
            service = self.meta.service_model.service_name
            calls.append(
                {
                    "service": service,
                    "region": self.meta.region_name,
                    "op": operation,
                    "params": copy.deepcopy(params),
                }
            )
        return original(self, operation, params)

    with _environment(state["environment"]):
        from fincert.wiring import use_services

        use_services(None)
        gateway = Gateway(load_template(), repo_root(), region=state["region"], authorizer_cache=False)
        BaseClient._make_api_call = _make_api_call
        try:
            steps, answers = signature_steps(customer, flow, 0)
            for path, body in steps:
                headers = [
                    ("Content-Type", "application/json"),
                    ("Authorization", f"Bearer {customer.token}"),
                ]
                response = gateway.handle("POST", path, headers, json.dumps(body()).encode())
                if response.status >= 300:
                    raise RuntimeError(f"recording {path}: {response.status} {response.body[:300]!r}")
                answers[path.rsplit("/", 1)[-1]] = response.json()
        finally:
            BaseClient._make_api_call = original
            use_services(None)
    return calls


def run_floor(state: dict, calls: list[dict], clients: int, seconds: float) -> dict:
    import boto3
    from botocore.exceptions import ClientError

    env = state["environment"]
    done = [0] * clients

    def thread_clients() -> dict[tuple[str, str], Any]:
        session = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        return {
            (c["service"], c["region"]): session.client(
                c["service"], region_name=c["region"], endpoint_url=state["moto_url"]
            )
            for c in calls
        }

    # Made before the clock starts: creating a client loads botocore's service models, seconds
    # on a loaded machine, which would leave a short floor run with nothing done.
    per_thread = [thread_clients() for _ in range(clients)]

    def work(i: int, until: float) -> None:
        clients_by = per_thread[i]
        while time.monotonic() < until:
            for call in calls:
                with contextlib.suppress(ClientError):  # a replayed write meets its own condition
                    clients_by[(call["service"], call["region"])]._make_api_call(call["op"], call["params"])
            done[i] += 1

    elapsed = run_threads(work, clients, seconds)
    return {"signatures": sum(done), "seconds": elapsed, "per_second": sum(done) / elapsed}


# --- the table ----------------------------------------------------------------------------------


def count_items(state: dict) -> int:
    client, table, count = _dynamodb(state), state["environment"]["TABLE_NAME"], 0
    for page in client.get_paginator("scan").paginate(TableName=table, Select="COUNT"):
        count += page["Count"]
    return count


def moto_bytes_per_item(state: dict, sample: int = 300) -> float:
    """What one of the table's items costs in moto's memory: the items as moto builds them,
    measured by tracemalloc in this process."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    client, table = _dynamodb(state), state["environment"]["TABLE_NAME"]
    items = client.scan(TableName=table, Limit=sample)["Items"]
    if not items:
        return 0.0
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    built = [Item(DynamoType(i["pk"]), DynamoType(i["sk"]), i) for i in items]
    size = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del built
    return size / len(items)


# --- the command ------------------------------------------------------------------------------


def measure(target: Target, args: argparse.Namespace, say: Callable[[str], None]) -> dict:
    say(f"issuing and connecting {args.clients} customers ...")
    customers = [new_customer(target.url, target.api_key) for _ in range(args.clients)]
    # The floor replays one customer's calls; replayed PIN checks end up locking its PIN, so that
    # customer is not one of those signing.
    recorded = new_customer(target.url, target.api_key)
    result: dict[str, Any] = {
        "clients": args.clients,
        "seconds": args.seconds,
        "flow": args.flow,
        "moto_fixes": not args.no_moto_fixes,
        "clients_process": args.clients_process,
        "load_average": os.getloadavg(),
    }
    has_moto = "moto_url" in target.state and "environment" in target.state
    if args.floor_seconds and has_moto:
        say("recording one signature's AWS calls, then the floor ...")
        calls = record_calls(target.state, recorded, args.flow)
        result["floor"] = run_floor(target.state, calls, args.clients, args.floor_seconds)
        result["floor"]["calls"] = [f"{c['service']}.{c['op']}" for c in calls]
    items_before = count_items(target.state) if has_moto else None
    rss_before = rss_mb(target.pid)

    say(f"{args.clients} customers signing for {args.seconds:.0f} s ({args.flow}) ...")
    if args.clients_process:
        tally, elapsed = _sign_in_a_process_of_their_own(customers, args.flow, args.seconds)
    else:
        tally, elapsed = sign_for(
            [(c.base, c.credential_id, c.token) for c in customers], args.flow, args.seconds
        )
    rss_after = rss_mb(target.pid)
    latencies = [latency * 1000 for _, latency in tally.done]
    label, first, last = windows(tally.done, elapsed)
    result |= {
        "signatures": len(tally.done),
        "elapsed_s": elapsed,
        "per_second": len(tally.done) / elapsed,
        "latency_ms": {q: percentile(latencies, v) for q, v in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
        "errors": {str(k): v for k, v in sorted(tally.statuses.items())},
        "error_samples": {str(k): v for k, v in sorted(tally.samples.items())},
        "errors_5xx": sum(v for k, v in tally.statuses.items() if k >= 500),
        "transport_errors": tally.transport_errors,
        "window": label,
        "first_per_second": first,
        "last_per_second": last,
        "rss_mb": {"before": rss_before, "after": rss_after},
    }
    if has_moto:
        added = count_items(target.state) - (items_before or 0)
        per_item = moto_bytes_per_item(target.state)
        result["items_added"] = added
        result["moto_bytes_per_item"] = per_item
        if rss_before is not None and rss_after is not None:
            result["rss_growth_net_mb"] = rss_after - rss_before - added * per_item / 2**20
    if "floor" in result:
        result["ratio"] = result["per_second"] / result["floor"]["per_second"]
    return result


def report(result: dict) -> str:
    lat = result["latency_ms"]
    lines = [
        f"clients {result['clients']}, {result['elapsed_s']:.0f} s, flow {result['flow']}, "
        f"moto corrections {'on' if result['moto_fixes'] else 'OFF'}, customers in "
        f"{'a process of their own' if result.get('clients_process') else 'the stack'}, load average "
        + " ".join(f"{x:.2f}" for x in result["load_average"]),
        f"signatures     {result['signatures']} ({result['per_second']:.1f}/s)",
        f"latency ms     p50 {lat['p50']:.0f}  p95 {lat['p95']:.0f}  p99 {lat['p99']:.0f}",
        f"errors         5xx {result['errors_5xx']}, no answer {result['transport_errors']}, "
        f"all non-2xx {result['errors'] or 'none'}",
        f"first/last {result['window']}: {result['first_per_second']:.1f}/s -> {result['last_per_second']:.1f}/s"
        + (
            f" ({result['last_per_second'] / result['first_per_second']:.2f}x, budget >= {BUDGET_STEADY})"
            if result["first_per_second"]
            else ""
        ),
    ]
    rss = result["rss_mb"]
    if rss["before"] is not None and rss["after"] is not None:
        line = f"stack RSS      {rss['before']:.0f} MB -> {rss['after']:.0f} MB"
        if "rss_growth_net_mb" in result:
            line += (
                f" (+{result['items_added']} items, ~{result['moto_bytes_per_item']:.0f} B each in moto; "
                f"growth net of them {result['rss_growth_net_mb']:.0f} MB, budget < {BUDGET_MEMORY_MB} MB over 5 min)"
            )
        lines.append(line)
    else:
        lines.append("stack RSS      unknown (pass --pid for a stack this command did not start)")
    for status, sample in result["error_samples"].items():
        lines.append(f"first {status}      {sample}")
    if "floor" in result:
        floor = result["floor"]
        lines.append(
            f"floor          {floor['per_second']:.1f}/s ({len(floor['calls'])} AWS calls per signature straight "
            f"to moto, {result['clients']} threads); ratio {result['ratio']:.2f} (budget >= {BUDGET_RATIO})"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with contextlib.ExitStack() as stack:
        if args.url or args.state:
            state = json.loads(args.state.read_text()) if args.state else {}
            url = args.url or state["gateway_url"]
            api_key = state.get("bootstrap", {}).get("api_key") or os.environ.get("FINCERT_API_KEY", "")
            target = Target(url, api_key, state, args.pid)
        else:
            say("starting the local stack in this process on free loopback ports ...")
            target = stack.enter_context(started_stack(moto_fixes=not args.no_moto_fixes))
        if args.mixed:
            from fincert_local import mixed

            result = mixed.run_mixed(target, args.clients, args.seconds, args.key_algorithm, args.seed, say)
            result["load_average"] = os.getloadavg()
            result["moto_fixes"] = not args.no_moto_fixes
            printed = mixed.report(result)
        else:
            result = measure(target, args, say)
            printed = report(result)
        stopping = time.monotonic()
    if not (args.url or args.state):
        result["stop_seconds"] = round(time.monotonic() - stopping, 2)
        printed += f"\nstack stopped in {result['stop_seconds']:.1f} s"
    print(printed, flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    failed = result["errors_5xx"] or result["transport_errors"]
    if args.mixed:
        failed = failed or result["violations"] or result["invariants_broken"]
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fincert_local load", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
