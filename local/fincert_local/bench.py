"""`python -m fincert_local.bench`: measure DESIGN.md §4's performance budgets on this machine.

1. Cold start per API function: in a fresh interpreter, importing the handler and serving its first
   request, against the floor measured in the same run (a fresh interpreter importing boto3 and
   making the same AWS calls with the same parameters). Budget: handler <= 1.5x floor.
2. AWS round trips per request on a warm container (botocore calls, the authorizer and SMS
   excluded). Budgets: the issuance confirm <= 8, CSC credentials/authorize and
   signatures/signHash <= 3 each.
3. The daily jobs' planners: DynamoDB items read to find what is due, per due item, with
   100,000 credentials of which 1% are due (--jobs-credentials). Budget: <= 1.2.

It is a measurement, not a gate: over budget prints OVER and still exits 0. It exits 1 only when
the measurement itself failed (a handler errored or answered with an error status).

Everything runs against one moto server in this process (the local stack, template.yaml's
resources, a bootstrapped CA and one registered institution). Adding a round-trip row: write a
scenario `(WarmContainer) -> {request name: [Call, ...]}`, add it to ROUND_TRIP_SCENARIOS and its
budget to ROUND_TRIP_BUDGETS. Adding a cold-start request: an entry in COLD_START_EVENTS.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import contextvars
import hashlib
import json
import logging
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import date as date_type
from pathlib import Path
from typing import Any

from fincert_local.gateway import Gateway, LambdaContext, Response, recorded_sms
from fincert_local.template import FunctionSpec, api_routes, authorizer, functions, load_template, repo_root

COLD_START_BUDGET = 1.5  # handler / floor, DESIGN.md §4
# DESIGN.md §4, request name -> most AWS round trips on a warm container. Still to come:
# "credentials/authorize": 3 and "signHash": 3, once those routes exist (add a scenario too).
ROUND_TRIP_BUDGETS: dict[str, int] = {
    "issuance confirm": 8,
    "credentials/authorize": 3,
    "signatures/signHash": 3,
}
# Not counted against a request's round trips (DESIGN.md §4): SMS is a side channel whose cost is
# the message, and the authorizer's calls are excluded by function (API Gateway caches its answer).
EXCLUDED_OPERATIONS = frozenset({"sns.Publish"})

DEFAULT_RUNS = 7
DEFAULT_WARMUP = 1
INSTITUTION_ID = "demo-bank"
EVENTS_DIR = repo_root() / "tests" / "events"
CHILD_TIMEOUT_S = 180


class UsageError(ValueError):
    """A bad command line (an unknown function, ...): exit 2 before anything starts."""


# --- the two child scripts --------------------------------------------------------------------
# Each runs in a fresh interpreter. t0 is the first statement (`time` is compiled into CPython, so
# taking it imports nothing from disk): interpreter startup is excluded from both sides, every
# import after it is included. Results go to a file, because handlers log to stdout.

_HANDLER_CHILD = r"""
_perf = __import__("time").perf_counter
_t0 = _perf()
import importlib.util, json, sys

with open(sys.argv[1], encoding="utf-8") as f:
    job = json.load(f)
_calls = []


def _record(client_class):
    original = client_class._make_api_call

    def _make_api_call(self, operation_name, api_params):
        # A shallow copy: botocore fills idempotency tokens into the caller's dict afterwards.
        _calls.append((self.meta.service_model.service_name, self.meta.region_name, operation_name,
                       dict(api_params)))
        return original(self, operation_name, api_params)

    client_class._make_api_call = _make_api_call


class _PatchBotocoreOnImport:
    # Only if the handler has not imported botocore yet: patching then must not import it early.
    def find_spec(self, name, path, target=None):
        if name != "botocore.client":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        exec_module = spec.loader.exec_module

        def patched(module):
            exec_module(module)
            _record(module.BaseClient)

        spec.loader.exec_module = patched
        return spec


class _Context:
    def __init__(self, attributes):
        self.__dict__.update(attributes)

    def get_remaining_time_in_millis(self):
        return 15000


status, error, _t_import = None, None, None
try:
    spec = importlib.util.spec_from_file_location(job["module_name"], job["handler_file"])
    module = importlib.util.module_from_spec(spec)
    sys.modules[job["module_name"]] = module
    spec.loader.exec_module(module)
    handler = getattr(module, job["handler_attribute"])
    _t_import = _perf()
    if "botocore.client" in sys.modules:
        _record(sys.modules["botocore.client"].BaseClient)
    else:
        sys.meta_path.insert(0, _PatchBotocoreOnImport())
    result = handler(job["event"], _Context(job["context"]))
    if isinstance(result, dict) and "statusCode" in result:
        status = result["statusCode"]
    elif isinstance(result, dict) and result.get("principalId"):
        status = "Allow" if '"Allow"' in json.dumps(result.get("policyDocument")) else "Deny"
    else:
        status = repr(result)[:200]
except BaseException as e:
    import traceback
    error = "".join(traceback.format_exception(e))
_t1 = _perf()

import base64


def _encode(value):
    raw = getattr(value, "value", value)  # boto3's dynamodb Binary wraps bytes
    if isinstance(raw, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(raw)).decode()}
    raise TypeError(f"cannot replay a parameter of type {type(value).__name__}")


calls = [{"service": s, "region": r, "operation": o, "params": p} for s, r, o, p in _calls]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(
        {"elapsed_s": _t1 - _t0, "import_s": (_t_import or _t1) - _t0, "status": status, "error": error,
         "calls": calls},
        f,
        default=_encode,
    )
sys.exit(1 if error else 0)
"""

_FLOOR_CHILD = r"""
_perf = __import__("time").perf_counter
_t0 = _perf()
import base64, json, sys


def _decode(obj):
    return base64.b64decode(obj["__bytes__"]) if set(obj) == {"__bytes__"} else obj


with open(sys.argv[1], encoding="utf-8") as f:
    calls = json.load(f, object_hook=_decode)
import boto3
from botocore.exceptions import ClientError

_t_import = _perf()
session = boto3.session.Session()
clients = {}
failed = []
for call in calls:
    key = (call["service"], call["region"])
    if key not in clients:
        clients[key] = session.client(call["service"], region_name=call["region"])
    try:
        clients[key]._make_api_call(call["operation"], call["params"])
    except ClientError as e:
        # Replaying a write meets its own condition (the item exists now): still one round trip.
        failed.append(e.response["Error"]["Code"])
_t1 = _perf()
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump({"elapsed_s": _t1 - _t0, "import_s": _t_import - _t0, "failed": failed}, f)
"""


# --- cold start -------------------------------------------------------------------------------


@dataclass
class BenchContext:
    """What the event builders need: the running stack and the institution's credentials."""

    region: str
    api_key: str
    institution_id: str = INSTITUTION_ID
    scopes: str = "connect enroll"
    rng: random.Random = field(default_factory=random.Random)

    def fresh_phone(self) -> str:
        # A new number per run: the per-phone SMS limit (5 an hour) must not answer 429.
        return f"010{self.rng.randrange(10**8):08d}"

    def authorizer_context(self) -> dict[str, str]:
        # What API Gateway hands the handler: the authorizer's context, stringified, + principalId.
        return {
            "principalId": self.institution_id,
            "institution_id": self.institution_id,
            "scopes": self.scopes,
        }


def _fixture(name: str) -> dict:
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


def _enrollment_start_event(ctx: BenchContext) -> dict:
    event = _fixture("enrollment_start.json")
    body = json.loads(event["body"]) | {"phone": ctx.fresh_phone()}
    event["body"] = json.dumps(body, ensure_ascii=False)
    event["requestContext"]["authorizer"] = ctx.authorizer_context()
    return event


def _connection_start_event(ctx: BenchContext) -> dict:
    event = _fixture("connection_start.json")
    body = json.loads(event["body"]) | {"phone": ctx.fresh_phone()}
    event["body"] = json.dumps(body, ensure_ascii=False)
    event["requestContext"]["authorizer"] = ctx.authorizer_context()
    return event


def _authorizer_event(ctx: BenchContext) -> dict:
    event = _fixture("authorizer_request.json")
    event["headers"]["Authorization"] = f"Bearer {ctx.api_key}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {ctx.api_key}"]
    return event


# The request a function's cold start serves, by route (METHOD, resource path); the authorizer's
# is AUTHORIZER_EVENT. A function whose routes have no entry here falls back to a fixture in
# tests/events with the same resource and method, used as is.
COLD_START_EVENTS: dict[tuple[str, str], Callable[[BenchContext], dict]] = {
    ("POST", "/v1/enrollments"): _enrollment_start_event,
    ("GET", "/pki/chain.pem"): lambda ctx: _fixture("pki_chain.json"),
    ("POST", "/v1/connections"): _connection_start_event,
}
# Requests whose cold start is measured on a documented refusal: the fixture's placeholder
# customer has no account, and the function imports and calls all the same to say so.
EXPECTED_REFUSALS: dict[str, int] = {
    "POST /v1/signatures": 404,
    "OPTIONS /v1/registrations": 403,
    "GET /v1/certificate": 404,
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
            return lambda ctx, name=path.name: _fixture(name)
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


def _summarise(operations: list[str]) -> str:
    counts = Counter(operations)
    return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in counts.items()) or "(none)"


@dataclass
class ChildRunner:
    environment: dict[str, str]
    workdir: Path
    python: str = sys.executable

    def child_env(self, function_env: dict[str, str]) -> dict[str, str]:
        base = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "TZ") if name in os.environ}
        return {
            **base,
            **function_env,
            **self.environment,
            # Nothing from the developer's own AWS setup may change what either side does.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def run(
        self, script: str, job: Any, env: dict[str, str], python_flags: tuple[str, ...] = ()
    ) -> tuple[dict, str]:
        fd, job_path = tempfile.mkstemp(suffix=".json", dir=self.workdir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(job, f, default=_encode_bytes)
        result_path = job_path.replace(".json", ".result.json")
        try:
            done = subprocess.run(
                [self.python, *python_flags, "-c", script, job_path, result_path],
                env=env,
                cwd=self.workdir,
                capture_output=True,
                text=True,
                timeout=CHILD_TIMEOUT_S,
                check=False,
            )
            if not os.path.exists(result_path):
                raise RuntimeError(f"benchmark child failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
            with open(result_path, encoding="utf-8") as f:
                return json.load(f, object_hook=_decode_bytes), done.stderr
        finally:
            for path in (job_path, result_path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


def _encode_bytes(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    raise TypeError(type(value).__name__)


def _decode_bytes(obj: dict) -> Any:
    return base64.b64decode(obj["__bytes__"]) if set(obj) == {"__bytes__"} else obj


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
        handler, _ = runner.run(_HANDLER_CHILD, _handler_job(target, target.make_event(ctx), ctx.region), env)
        if handler["error"] or not _expected(target, handler["status"]):
            return {
                "function": target.spec.logical_id,
                "request": target.request,
                "error": handler["error"] or f"unexpected response status {handler['status']!r}",
            }
        # The floor replays this run's calls (the enrollment event differs per run).
        floor, _ = runner.run(_FLOOR_CHILD, handler["calls"], env)
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
        _HANDLER_CHILD, _handler_job(target, target.make_event(ctx), ctx.region), env, flags
    )
    _, floor_err = runner.run(_FLOOR_CHILD, handler["calls"], env, flags)
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


# --- round trips on a warm container ----------------------------------------------------------

_CURRENT_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_function", default=None)
_RECORDING: contextvars.ContextVar[list | None] = contextvars.ContextVar("bench_recording", default=None)


@dataclass(frozen=True)
class Call:
    function_id: str | None  # which Lambda function made it
    operation: str  # "dynamodb.GetItem"


class _AttributingGateway(Gateway):
    """The local gateway, noting which function each AWS call comes from (so the authorizer's
    calls can be told apart from the handler's)."""

    def invoke(self, function_id: str, event: dict) -> Any:
        token = _CURRENT_FUNCTION.set(function_id)
        try:
            return super().invoke(function_id, event)
        finally:
            _CURRENT_FUNCTION.reset(token)


@contextlib.contextmanager
def _botocore_recorder() -> Iterator[None]:
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: dict) -> Any:
        recording = _RECORDING.get()  # None in every thread but the one measuring (moto's server)
        if recording is not None:
            recording.append(
                Call(_CURRENT_FUNCTION.get(), f"{self.meta.service_model.service_name}.{operation_name}")
            )
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = _make_api_call
    try:
        yield
    finally:
        BaseClient._make_api_call = original


@dataclass
class WarmContainer:
    """One warm 'container': handlers imported once and kept, like Lambda reusing an environment."""

    gateway: Gateway
    ctx: BenchContext

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Call]]:
        calls: list[Call] = []
        token = _RECORDING.set(calls)
        try:
            yield calls
        finally:
            _RECORDING.reset(token)

    def post(self, path: str, body: Any, token: str | None = None) -> Response:
        bearer = token or self.ctx.api_key
        headers = [("Content-Type", "application/json"), ("Authorization", f"Bearer {bearer}")]
        response = self.gateway.handle("POST", path, headers, json.dumps(body, ensure_ascii=False).encode())
        if response.status >= 400:
            raise RuntimeError(f"POST {path}: {response.status} {response.body[:500]!r}")
        return response

    def sms_code(self, phone: str) -> str:
        e164 = "+82" + phone[1:]
        texts = recorded_sms(e164, self.ctx.region)
        match = re.search(r"\[(\d{6})\]", texts[-1]) if texts else None
        if match is None:
            raise RuntimeError(f"no SMS code sent to {e164}")
        return match.group(1)


def _customer(ctx: BenchContext) -> dict:
    return json.loads(_fixture("enrollment_start.json")["body"]) | {"phone": ctx.fresh_phone()}


def issuance_scenario(container: WarmContainer) -> dict[str, list[Call]]:
    """Enrollment start + confirm for a new customer, after one full issuance warmed the container."""

    def issue() -> dict[str, list[Call]]:
        customer = _customer(container.ctx)
        with container.recording() as start:
            enrollment_id = container.post("/v1/enrollments", customer).json()["enrollment_id"]
        body = {"sms_code": container.sms_code(customer["phone"]), "pin": "135790"}
        with container.recording() as confirm:
            container.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
        return {"enrollment start": start, "issuance confirm": confirm}

    issue()  # warm-up: imports, clients, the CA read once per container
    return issue()


def signing_scenario(container: WarmContainer) -> dict[str, list[Call]]:
    """A connected customer's CSC authorize (PIN -> SAD) and signHash, after one round warmed up."""
    customer = _customer(container.ctx)
    enrollment_id = container.post("/v1/enrollments", customer).json()["enrollment_id"]
    body = {"sms_code": container.sms_code(customer["phone"]), "pin": "135790"}
    credential_id = container.post(f"/v1/enrollments/{enrollment_id}/confirm", body).json()["credential_id"]
    identity = {k: customer[k] for k in ("name", "phone", "birth_date")}
    verification_id = container.post("/v1/connections", identity).json()["verification_id"]
    confirm = {"sms_code": container.sms_code(customer["phone"])}
    token = container.post(f"/v1/connections/{verification_id}/confirm", confirm).json()["session_token"]
    digest = base64.b64encode(hashlib.sha256(b"bench").digest()).decode()

    def sign() -> dict[str, list[Call]]:
        authorize = {"credentialID": credential_id, "numSignatures": 1, "hash": [digest], "PIN": "135790"}
        with container.recording() as authorized:
            sad = container.post("/csc/v1/credentials/authorize", authorize, token).json()["SAD"]
        sign_hash = {
            "credentialID": credential_id,
            "SAD": sad,
            "hash": [digest],
            "signAlgo": "1.2.840.113549.1.1.11",
        }
        with container.recording() as signed:
            container.post("/csc/v1/signatures/signHash", sign_hash, token)
        return {"credentials/authorize": authorized, "signatures/signHash": signed}

    sign()  # warm-up
    return sign()


ROUND_TRIP_SCENARIOS: list[Callable[[WarmContainer], dict[str, list[Call]]]] = [
    issuance_scenario,
    signing_scenario,
]


# --- revocation status: an OCSP query on a warm container ----------------------------------------


def ocsp_scenario(container: WarmContainer) -> dict[str, list[Call]]:
    """One OCSP query about a freshly issued certificate, after a first query warmed the
    container (the CA record, the responder record and its key's one KMS Decrypt)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    customer = _customer(container.ctx)
    enrollment_id = container.post("/v1/enrollments", customer).json()["enrollment_id"]
    body = {"sms_code": container.sms_code(customer["phone"]), "pin": "135790"}
    issued = container.post(f"/v1/enrollments/{enrollment_id}/confirm", body).json()
    leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    issuer = x509.load_pem_x509_certificate(issued["chain_pem"][0].encode())
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf, issuer, hashes.SHA1())  # noqa: S303  # what openssl sends
        .build()
        .public_bytes(serialization.Encoding.DER)
    )

    def ask() -> None:
        response = container.gateway.handle(
            "POST", "/pki/ocsp", [("Content-Type", "application/ocsp-request")], request
        )
        if response.status != 200 or ocsp.load_der_ocsp_response(response.body).certificate_status is not (
            ocsp.OCSPCertStatus.GOOD
        ):
            raise RuntimeError(f"POST /pki/ocsp: {response.status} {response.body[:200]!r}")

    ask()
    with container.recording() as query:
        ask()
    return {"OCSP query": query}


ROUND_TRIP_SCENARIOS.append(ocsp_scenario)
# Not a DESIGN.md budget: ours. One strongly consistent GetItem of the serial's record; no KMS.
ROUND_TRIP_BUDGETS["OCSP query"] = 1


def measure_round_trips(container: WarmContainer, authorizer_id: str | None) -> list[dict]:
    rows = []
    with _botocore_recorder():
        for scenario in ROUND_TRIP_SCENARIOS:
            for request, calls in scenario(container).items():
                counted = [
                    c.operation
                    for c in calls
                    if c.function_id != authorizer_id and c.operation not in EXCLUDED_OPERATIONS
                ]
                excluded = [
                    ("authorizer " if c.function_id == authorizer_id else "") + c.operation
                    for c in calls
                    if c.function_id == authorizer_id or c.operation in EXCLUDED_OPERATIONS
                ]
                budget = ROUND_TRIP_BUDGETS.get(request)
                rows.append(
                    {
                        "request": request,
                        "count": len(counted),
                        "budget": budget,
                        "over_budget": budget is not None and len(counted) > budget,
                        "operations": counted,
                        "excluded": excluded,
                    }
                )
    return rows


# --- scheduled jobs: items read to find what is due -------------------------------------------
# DESIGN.md §4: with 100,000 credentials of which 1% are due, the jobs' planners read <= 1.2
# DynamoDB items per due item. Counted: the items the queries return (what DynamoDB bills and
# what the planner handles), not moto's own walk of its index.
JOBS_BUDGET = 1.2
DEFAULT_JOBS_CREDENTIALS = 100_000
DUE_FRACTION = 0.01


def _bench_items(n: int, today: date_type, rng: random.Random) -> tuple[list[dict], dict[str, int]]:
    """n accounts, each with one active credential, in the shapes the jobs query: 1% of the
    credentials inside their renewal window (up to 3 days late: a missed run) and 1% of the
    accounts idle long enough to be warned or purged; the rest due some day in the next 3 years."""
    from fincert.adapters.dynamodb.keys import idle_shard
    from fincert.domain.schedule import IDLE_PERIOD, WARNING_NOTICE

    due = {"renewal": 0, "purge": 0}
    items: list[dict] = []
    due_every = round(1 / DUE_FRACTION)
    for i in range(n):
        account_id, credential_id = f"acct_bench{i:07d}", f"cred_bench{i:07d}"
        shard = idle_shard(account_id)
        if i % due_every == 0:
            window_start = today - timedelta(days=rng.randrange(3))
            due["renewal"] += 1
        else:
            window_start = today + timedelta(days=1 + rng.randrange(3 * 365))
        kind = "renew" if rng.random() < 0.8 else "expiry"
        if i % due_every == due_every // 2:
            warned = rng.random() < 0.5
            idle_days = (IDLE_PERIOD if warned else IDLE_PERIOD - WARNING_NOTICE).days + rng.randrange(3)
            due["purge"] += 1
        else:
            warned, idle_days = rng.random() < 0.02, rng.randrange(300)
        last_used = (today - timedelta(days=idle_days)).isoformat()
        items.append(
            {
                "pk": f"ACCT#{account_id}",
                "sk": "ACCOUNT",
                "last_used_day": last_used,
                "due_pk": f"{'idle-warned' if warned else 'idle'}#{shard}",
                "due_sk": f"{last_used}#{account_id}",
            }
            | ({"warned_on": (today - timedelta(days=31)).isoformat()} if warned else {})
        )
        items.append(
            {
                "pk": f"ACCT#{account_id}",
                "sk": f"CRED#{credential_id}",
                "status": "active",
                "due_pk": f"{kind}#{shard}",
                "due_sk": f"{window_start.isoformat()}#{account_id}#{credential_id}",
            }
        )
    return items, due


def _load(table: str, items: list[dict]) -> None:
    import boto3
    from boto3.dynamodb.types import TypeSerializer

    client = boto3.client("dynamodb")
    serialize = TypeSerializer().serialize
    for start in range(0, len(items), 25):
        pending = [
            {"PutRequest": {"Item": {k: serialize(v) for k, v in item.items()}}}
            for item in items[start : start + 25]
        ]
        while pending:
            response = client.batch_write_item(RequestItems={table: pending})
            pending = response.get("UnprocessedItems", {}).get(table, [])


class _LongestLambda:
    """A context with Lambda's longest timeout (15 minutes) ahead. moto walks the whole table for
    every index query (seconds per query at 200,000 items, where DynamoDB takes milliseconds):
    under the planner's own 300 s it would hand most of its queries over to the workers, which
    measures moto, not the planner."""

    function_name = "bench-planner"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:bench-planner"
    aws_request_id = "bench"

    def __init__(self) -> None:
        self._deadline = time.monotonic() + 15 * 60

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def measure_jobs(gateway: Gateway, region: str, credentials: int) -> dict:
    """Loads the table directly (BatchWriteItem), then fires each job's planner with a scheduled
    event and reads its report: items the `due` queries returned, entries enqueued."""
    import boto3
    from botocore.config import Config
    from fincert.adapters.clients import AwsClients
    from fincert.clock import kst_date
    from fincert.settings import get_settings
    from fincert.wiring import Services, services, use_services

    from fincert_local.jobs import JOBS, scheduled_event

    # The same reason as _LongestLambda: one moto index query outlasts the clients' 5 s timeout.
    use_services(Services(get_settings(), clients=AwsClients(config=Config(read_timeout=900))))
    svc = services()
    today = kst_date(svc.clock.now())
    items, due = _bench_items(credentials, today, random.Random(4))  # noqa: S311 - test data, repeatable
    started = time.perf_counter()
    _load(svc.settings.table_name, items)
    load_s = time.perf_counter() - started
    rows = []
    sqs = boto3.client("sqs")
    for job, job_functions in JOBS.items():
        with _recording_calls() as calls:
            planner = gateway.handler(job_functions.planner)
            report = planner(scheduled_event(job_functions.planner, region), _LongestLambda())
        per_due = report["items_read"] / due[job] if due[job] else 0.0
        rows.append(
            {
                "job": job,
                "due": due[job],
                "enqueued": report["enqueued"],
                "items_read": report["items_read"],
                "items_read_per_due_item": round(per_due, 3),
                "budget": JOBS_BUDGET,
                "over_budget": per_due > JOBS_BUDGET or report["enqueued"] != due[job],
                "operations": dict(Counter(c.operation for c in calls)),
            }
        )
        # The fake entries are for the planners only: no worker acts on them.
        sqs.purge_queue(QueueUrl=os.environ[job_functions.queue_url_variable])
    use_services(None)
    return {
        "credentials": credentials,
        "accounts": credentials,
        "load_seconds": round(load_s, 1),
        "rows": rows,
    }


@contextlib.contextmanager
def _recording_calls() -> Iterator[list[Call]]:
    calls: list[Call] = []
    token = _RECORDING.set(calls)
    try:
        with _botocore_recorder():
            yield calls
    finally:
        _RECORDING.reset(token)


# --- the run ----------------------------------------------------------------------------------


def _verdict(over: bool | None) -> str:
    return "-" if over is None else ("OVER" if over else "ok")


def _report(result: dict) -> str:
    m = result["method"]
    lines = [
        f"fincert-cloud benchmark, {result['date']}, {result['machine']['cpus']} CPUs, "
        f"Python {result['machine']['python']}, AWS = moto {result['machine']['moto']} server in this process",
        f"load average (1 min) {result['machine']['load_average_1min_at_start']} at start, "
        f"{result['machine']['load_average_1min_at_end']} at end",
        "",
        f"Cold start (DESIGN.md §4: handler <= {COLD_START_BUDGET}x floor), medians of {m['runs']} runs "
        f"after {m['warmup']} discarded warm-up run(s)",
        "  Every run is a fresh `python` process; t0 is its first statement, so interpreter startup is",
        "  excluded from both sides and every import is included.",
        "  handler = import functions/<fn>/app.py as the gateway does + serve one request.",
        "  floor   = import boto3 + create the same clients + replay the handler's AWS calls with the",
        "            same parameters (a replayed write failing its condition still counts as made).",
        "  Runs alternate handler, floor, handler, floor ... so drift touches both.",
        "",
        f"  {'function':<19} {'request':<21} {'handler ms':>10} {'(import)':>9} {'floor ms':>9} "
        f"{'(import)':>9} {'ratio':>6} {'budget':>6}  verdict  AWS calls",
    ]
    for row in result["cold_start"]:
        if "error" in row:
            last_line = row["error"].strip().splitlines()[-1]
            lines.append(f"  {row['function']:<19} {row['request']:<21} ERROR: {last_line}")
            continue
        lines.append(
            f"  {row['function']:<19} {row['request']:<21} {row['handler_median_ms']:>10.1f} "
            f"{row['handler_import_median_ms']:>9.1f} {row['floor_median_ms']:>9.1f} "
            f"{row['floor_import_median_ms']:>9.1f} {row['ratio']:>6.2f} {row['budget']:>5.1f}x  "
            f"{_verdict(row['over_budget']):<7}  {_summarise(row['calls'])}"
        )
    explained = [row for row in result["cold_start"] if row.get("extra_imports")]
    if explained:
        lines.append(
            "  Imports the floor does not make, self ms by package (one run under python -X importtime):"
        )
        for row in explained:
            extra = ", ".join(f"{e['package']} {e['self_ms']:.0f}" for e in row["extra_imports"])
            lines.append(f"    {row['function']}: {extra}")
    lines += [
        "",
        "AWS round trips per request on a warm container (DESIGN.md §4): botocore calls counted in",
        "  process through the local gateway, after one full issuance warmed the container;",
        "  the authorizer's calls and SMS (sns.Publish) are excluded and shown in brackets.",
        "",
        f"  {'request':<20} {'count':>5} {'budget':>6}  verdict  operations",
    ]
    for row in result["round_trips"]:
        budget = "-" if row["budget"] is None else str(row["budget"])
        over = None if row["budget"] is None else row["over_budget"]
        excluded = f"  [{', '.join(row['excluded'])}]" if row["excluded"] else ""
        lines.append(
            f"  {row['request']:<20} {row['count']:>5} {budget:>6}  {_verdict(over):<7}  "
            f"{_summarise(row['operations'])}{excluded}"
        )
    jobs = result.get("jobs")
    if jobs:
        lines += [
            "",
            f"Scheduled jobs (DESIGN.md §4: DynamoDB items read to find what is due <= {JOBS_BUDGET} per due",
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
    return "\n".join(lines)


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def bench(
    runs: int,
    warmup: int,
    only: list[str] | None,
    imports: str = "over",
    jobs_credentials: int = DEFAULT_JOBS_CREDENTIALS,
) -> dict:
    from fincert.admin import bootstrap_ca, ensure_ocsp_responder
    from fincert.domain.institutions import register_institution
    from fincert.domain.model import Scope
    from fincert.wiring import services, use_services

    from fincert_local.stack import LocalStack

    template = load_template()
    targets = cold_start_targets(template, only)
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
        },
    }
    stack = LocalStack(authorizer_cache=False)
    stack.start()
    try:
        use_services(None)  # settings from the environment the stack just set
        svc = services()
        bootstrap_ca(svc)
        ensure_ocsp_responder(svc)  # what `fincert-admin bootstrap-ca` creates too
        scopes = [s.value for s in Scope]
        _, api_key = register_institution(svc.store, INSTITUTION_ID, "Demo Bank", scopes)
        ctx = BenchContext(region=stack.region, api_key=api_key, scopes=" ".join(sorted(scopes)))
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
                row = measure_cold_start(target, ctx, runner, env, runs, warmup)
                if "error" not in row and (imports == "all" or (imports == "over" and row["over_budget"])):
                    row["extra_imports"] = extra_imports(target, ctx, runner, env)
                rows.append(row)
            result["cold_start"] = rows

        use_services(None)  # a fresh container: nothing the bootstrap cached
        gateway = _AttributingGateway(template, repo_root(), region=stack.region, authorizer_cache=False)
        result["round_trips"] = measure_round_trips(
            WarmContainer(gateway, ctx), auth.function_id if auth else None
        )
        if jobs_credentials > 0:
            result["jobs"] = measure_jobs(gateway, stack.region, jobs_credentials)
    finally:
        use_services(None)
        stack.stop()
    result["machine"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    return result


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
    only = [
        name.strip() for value in args.functions or [] for name in value.split(",") if name.strip()
    ] or None
    # moto's server and werkzeug would log every request.
    for name in ("werkzeug", "moto", "botocore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        result = bench(args.runs, args.warmup, only, args.imports, args.jobs_credentials)
    except UsageError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    print(_report(result), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    failed = any("error" in row for row in result["cold_start"])
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fincert_local.bench", description="measure DESIGN.md §4's performance budgets"
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
