"""What one operation costs on AWS, per million (issue 12, item 4; budgets in budgets.py).

Nothing here is typed in but the prices (prices_ap_northeast_2.json, with their date and source):
each operation is run through the local gateway on a warm container (authorizer uncached, as in
the template: every request runs it), and what it costs is counted from what happened:

- API Gateway: the REST requests the operation sends.
- Lambda: one request per invocation (the authorizer's too), and GB-s from the template's
  MemorySize of the function invoked times its billed duration. The duration is the service CPU
  measured here (process CPU inside the handler minus the process CPU inside its botocore calls,
  as the CPU-per-signature figure measures it), stretched by Lambda's CPU share below 1,769 MB,
  plus an assumed in-region round trip per AWS call (moto in this process cannot supply that
  wait; the assumption is in the prices file), rounded up to the millisecond as Lambda bills.
- DynamoDB: request units from the real items. Every call the handlers make is seen by wrapping
  botocore's `BaseClient._make_api_call`; the items it reads or writes are read back from the
  table (before and after a write, strongly consistent, by a client of our own that is not
  counted), their sizes computed as DynamoDB sizes items (attribute names + values), and the units
  charged as on-demand DynamoDB charges them: reads per 4 KB (half for eventually consistent,
  double in a transaction), writes per 1 KB of the larger of the item before and after (double in
  a transaction), plus a write to each global secondary index whose entry the write adds, changes
  or removes (its projected size, from template.yaml's index definitions).
- KMS: one request per call, priced by the key's spec (looked up once per key).
- SMS (sns.Publish) is counted and listed apart, unpriced, as the budgets say.

Each operation is run `rounds` times after one warm-up round; API and AWS calls are the same each
round, the CPU is not: the report gives the round with the median total.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import hashlib
import json
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fincert_local.bench.budgets import COST_BUDGETS
from fincert_local.bench.round_trips import WarmContainer, connected_customer, new_person
from fincert_local.template import authorizer, functions, load_template

PRICES_FILE = Path(__file__).with_name("prices_ap_northeast_2.json")
DEFAULT_COST_ROUNDS = 5
PIN = "135790"
_CSC_SIGN_ALGO = "1.2.840.113549.1.1.11"


def load_prices(path: Path = PRICES_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _price(prices: dict, name: str) -> float:
    entry = prices["prices"][name]
    return float(entry["usd"]) / float(entry["per"])


# --- DynamoDB item sizes and units --------------------------------------------------------------


def _number_size(text: str) -> int:
    # DynamoDB: about one byte per two significant digits, plus one.
    digits = text.lstrip("-+").replace(".", "").split("e")[0].split("E")[0].strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict) -> int:
    """The size DynamoDB counts for one attribute value (low-level JSON, as botocore returns it)."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        return _number_size(v)
    if kind == "B":
        return len(v) if isinstance(v, bytes | bytearray) else len(base64.b64decode(v))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in v)
    if kind == "NS":
        return sum(_number_size(n) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":
        return 3 + sum(value_size(e) + 1 for e in v)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(e) + 1 for k, e in v.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict | None) -> int:
    """An item's size as DynamoDB bills it: attribute names' UTF-8 bytes plus the values'."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    blocks = max(1, math.ceil(size / 4096))
    return blocks * (2.0 if transactional else 1.0 if consistent else 0.5)


def write_units(size: int, *, transactional: bool = False) -> float:
    return max(1, math.ceil(size / 1024)) * (2.0 if transactional else 1.0)


@dataclass(frozen=True)
class SecondaryIndex:
    name: str
    hash_key: str
    range_key: str | None
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableShape:
    keys: tuple[str, ...]
    indexes: tuple[SecondaryIndex, ...]

    def key_of(self, item: dict) -> dict:
        return {k: item[k] for k in self.keys if k in item}

    def index_entry(self, index: SecondaryIndex, item: dict | None) -> dict | None:
        """What the index holds for this item (None: the item is not in this sparse index)."""
        if not item or index.hash_key not in item or (index.range_key and index.range_key not in item):
            return None
        names = set(self.keys) | {index.hash_key} | ({index.range_key} if index.range_key else set())
        if index.projection == "ALL":
            return dict(item)
        if index.projection == "INCLUDE":
            names |= set(index.non_key)
        return {k: v for k, v in item.items() if k in names}

    def index_write_units(self, before: dict | None, after: dict | None) -> float:
        units = 0.0
        for index in self.indexes:
            old, new = self.index_entry(index, before), self.index_entry(index, after)
            if old == new:
                continue
            if old is not None and new is not None:
                keys = [index.hash_key, *([index.range_key] if index.range_key else [])]
                if any(old[k] != new[k] for k in keys):  # a moved entry: delete + put
                    units += write_units(item_size(old)) + write_units(item_size(new))
                    continue
            units += write_units(item_size(new if new is not None else old))
        return units


def table_shape(template: dict) -> TableShape:
    """The one DynamoDB table's keys and global secondary indexes, as template.yaml declares them."""
    tables = [r for r in template["Resources"].values() if r.get("Type") == "AWS::DynamoDB::Table"]
    if len(tables) != 1:
        raise ValueError(f"the cost model expects one table, template.yaml has {len(tables)}")
    props = tables[0]["Properties"]
    keys = tuple(k["AttributeName"] for k in props["KeySchema"])
    indexes = []
    for gsi in props.get("GlobalSecondaryIndexes", []):
        schema = {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
        projection = gsi.get("Projection", {})
        indexes.append(
            SecondaryIndex(
                gsi["IndexName"],
                schema["HASH"],
                schema.get("RANGE"),
                projection.get("ProjectionType", "KEYS_ONLY"),
                tuple(projection.get("NonKeyAttributes", [])),
            )
        )
    return TableShape(keys, tuple(indexes))


# --- what one operation did -------------------------------------------------------------------


@dataclass
class AwsCall:
    function_id: str | None
    operation: str  # "dynamodb.GetItem"
    rru: float = 0.0
    wru: float = 0.0  # the table's, transactional doubling included
    index_wru: float = 0.0
    kms_price: str | None = None  # which KMS price applies
    items: list[str] = field(default_factory=list)  # "ACCT/CRED 612->640 B": kind of each item, sizes


def _kind(key: dict) -> str:
    """An item's kind from its key, without its identifiers: the key values' first parts."""
    return "/".join(str(next(iter(v.values()))).split("#")[0] for v in key.values())


@dataclass
class Invocation:
    function_id: str
    service_cpu_s: float = 0.0  # CPU inside the handler minus CPU inside its botocore calls
    calls: list[str] = field(default_factory=list)  # service of each AWS call, for the waits


@dataclass
class _Round:
    requests: int = 0
    invocations: list[Invocation] = field(default_factory=list)
    calls: list[AwsCall] = field(default_factory=list)
    current: Invocation | None = None


_ROUND: contextvars.ContextVar[_Round | None] = contextvars.ContextVar("bench_cost_round", default=None)


class _Observer:
    """Patches the container's gateway and botocore while open; a round records while one is set."""

    def __init__(self, container: WarmContainer, shape: TableShape) -> None:
        self.container = container
        self.shape = shape
        self._key_specs: dict[str, str] = {}
        self._original: Any = None
        self._own: dict[str, Any] = {}

    # Our own lookups go to the unpatched method, on clients no handler uses: never counted.
    def _lookup(self, table: str, key: dict) -> dict | None:
        client = self._own["dynamodb"]
        answer = self._original(client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
        return answer.get("Item")

    def _key_spec(self, key_id: str) -> str:
        if key_id not in self._key_specs:
            answer = self._original(self._own["kms"], "DescribeKey", {"KeyId": key_id})
            self._key_specs[key_id] = answer["KeyMetadata"].get("KeySpec", "SYMMETRIC_DEFAULT")
        return self._key_specs[key_id]

    @contextlib.contextmanager
    def patched(self) -> Iterator[None]:
        import boto3
        from botocore.client import BaseClient

        self._original = original = BaseClient._make_api_call
        session = boto3.session.Session()
        self._own = {name: session.client(name) for name in ("dynamodb", "kms")}
        gateway = self.container.gateway
        invoke = gateway.invoke

        def timed_invoke(function_id: str, event: dict) -> Any:
            current = _ROUND.get()
            if current is None:
                return invoke(function_id, event)
            invocation = Invocation(function_id)
            current.invocations.append(invocation)
            current.current = invocation
            started = time.process_time()
            try:
                return invoke(function_id, event)
            finally:
                invocation.service_cpu_s += time.process_time() - started
                current.current = None

        handle = gateway.handle

        def counted_handle(*args: Any, **kwargs: Any) -> Any:
            current = _ROUND.get()
            if current is not None:
                current.requests += 1
            return handle(*args, **kwargs)

        observer = self

        def _make_api_call(client: Any, operation: str, params: dict) -> Any:
            current = _ROUND.get()
            if current is None:
                return original(client, operation, params)
            started = time.process_time()
            service = client.meta.service_model.service_name
            call = AwsCall(current.current.function_id if current.current else None, f"{service}.{operation}")
            try:
                if service == "dynamodb":
                    return observer._dynamodb(call, original, client, operation, params)
                if service == "kms":
                    spec = observer._key_spec(params["KeyId"]) if "KeyId" in params else "SYMMETRIC_DEFAULT"
                    asymmetric = spec.startswith(("ECC", "RSA")) and spec != "RSA_2048"
                    call.kms_price = "kms_asymmetric_request" if asymmetric else "kms_request"
                return original(client, operation, params)
            finally:
                current.calls.append(call)
                if current.current is not None:
                    # All of it, our own lookups included, is taken out of the handler's CPU.
                    current.current.service_cpu_s -= time.process_time() - started
                    current.current.calls.append(service)

        gateway.invoke = timed_invoke
        gateway.handle = counted_handle
        BaseClient._make_api_call = _make_api_call
        try:
            yield
        finally:
            BaseClient._make_api_call = original
            del gateway.invoke, gateway.handle  # back to the class's methods

    def _dynamodb(self, call: AwsCall, original: Any, client: Any, operation: str, params: dict) -> Any:
        """Make the call; charge its units from the items as they were before and after it."""
        shape = self.shape
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            table = params["TableName"]
            key = shape.key_of(params["Item"]) if operation == "PutItem" else params["Key"]
            before = self._lookup(table, key)
            try:
                return original(client, operation, params)
            finally:
                after = self._lookup(table, key)
                call.wru += write_units(max(item_size(before), item_size(after)))
                call.index_wru += shape.index_write_units(before, after)
                call.items.append(f"{_kind(key)} {item_size(before)}->{item_size(after)} B")
        if operation == "TransactWriteItems":
            actions = []
            for entry in params["TransactItems"]:
                ((kind, action),) = entry.items()
                key = shape.key_of(action["Item"]) if kind == "Put" else action["Key"]
                actions.append((action["TableName"], key, self._lookup(action["TableName"], key)))
            try:
                return original(client, operation, params)
            finally:
                for table, key, before in actions:
                    after = self._lookup(table, key)
                    # A ConditionCheck is charged as a transactional write of the item checked (our
                    # reading of DynamoDB's pricing; docs/benchmarks.md says what a read would change).
                    call.wru += write_units(max(item_size(before), item_size(after)), transactional=True)
                    call.index_wru += shape.index_write_units(before, after)
                    call.items.append(f"{_kind(key)} {item_size(before)}->{item_size(after)} B")
        if operation == "BatchWriteItem":
            writes = []
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        key = shape.key_of(request["PutRequest"]["Item"])
                    else:
                        key = request["DeleteRequest"]["Key"]
                    writes.append((table, key, self._lookup(table, key)))
            try:
                return original(client, operation, params)
            finally:
                for table, key, before in writes:
                    after = self._lookup(table, key)
                    call.wru += write_units(max(item_size(before), item_size(after)))
                    call.index_wru += shape.index_write_units(before, after)
                    call.items.append(f"{_kind(key)} {item_size(before)}->{item_size(after)} B")
        answer = original(client, operation, params)
        if operation == "GetItem":
            item = self._lookup(params["TableName"], params["Key"])
            call.rru += read_units(item_size(item), consistent=bool(params.get("ConsistentRead")))
            call.items.append(f"{_kind(params['Key'])} {item_size(item)} B")
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                for key in request["Keys"]:
                    item = self._lookup(table, key)
                    call.rru += read_units(item_size(item), consistent=bool(request.get("ConsistentRead")))
                    call.items.append(f"{_kind(key)} {item_size(item)} B")
        elif operation == "TransactGetItems":
            for entry in params["TransactItems"]:
                get = entry["Get"]
                item = self._lookup(get["TableName"], get["Key"])
                call.rru += read_units(item_size(item), consistent=True, transactional=True)
        elif operation in ("Query", "Scan"):
            # Billed by the size of what was read (before any filter: not seen here, so a filtered
            # query is under-counted), rounded up once per response. An index holds projections.
            items = answer.get("Items", [])
            if "IndexName" not in params and "ProjectionExpression" in params:
                items = [self._lookup(params["TableName"], shape.key_of(i)) for i in items]
            total = sum(item_size(i) for i in items)
            call.rru += read_units(total, consistent=bool(params.get("ConsistentRead")))
        return answer


# --- the operations ---------------------------------------------------------------------------


@dataclass
class Operation:
    name: str
    budget_key: str | None  # in budgets.COST_BUDGETS
    prepare: Callable[[WarmContainer], Any]  # per round, not counted
    run: Callable[[WarmContainer, Any], None]  # counted


def _new_customer(container: WarmContainer) -> dict:
    return new_person(container.ctx)


def _issue(container: WarmContainer, customer: dict) -> None:
    enrollment_id = container.post("/v1/enrollments", customer).json()["enrollment_id"]
    body = {"sms_code": container.sms_code(customer["phone"]), "pin": PIN}
    container.post(f"/v1/enrollments/{enrollment_id}/confirm", body)


def _issued_customer(container: WarmContainer) -> dict:
    customer = _new_customer(container)
    _issue(container, customer)
    return customer


def _connect(container: WarmContainer, customer: dict) -> None:
    identity = {k: customer[k] for k in ("name", "phone", "birth_date")}
    verification_id = container.post("/v1/connections", identity).json()["verification_id"]
    confirm = {"sms_code": container.sms_code(customer["phone"])}
    container.post(f"/v1/connections/{verification_id}/confirm", confirm)


def _csc_signature(container: WarmContainer, customer: tuple[str, str, str]) -> None:
    credential_id, token, _ = customer
    digest = base64.b64encode(hashlib.sha256(b"fincert-cloud bench: cost").digest()).decode()
    authorize = {"credentialID": credential_id, "numSignatures": 1, "hash": [digest], "PIN": PIN}
    sad = container.post("/csc/v1/credentials/authorize", authorize, token).json()["SAD"]
    sign_hash = {"credentialID": credential_id, "SAD": sad, "hash": [digest], "signAlgo": _CSC_SIGN_ALGO}
    container.post("/csc/v1/signatures/signHash", sign_hash, token)


def _fincert_signature(container: WarmContainer, customer: tuple[str, str, str]) -> None:
    body = {
        "contents": [{"text": "이체 확인: 100,000원 (fincert-cloud bench)"}],
        "sign_type": "transfer",
        "formats": ["cms_attached"],
        "pin": PIN,
    }
    container.post("/v1/signatures", body, customer[1])


OPERATIONS: list[Operation] = [
    Operation("CSC signature (authorize + signHash)", "csc_signature", connected_customer, _csc_signature),
    Operation(
        "FinCert signature (POST /v1/signatures)", "fincert_signature", connected_customer, _fincert_signature
    ),
    Operation("connection (start + confirm)", None, _issued_customer, _connect),
    Operation("issued certificate (start + confirm)", "issued_certificate", _new_customer, _issue),
]


# --- pricing one round ------------------------------------------------------------------------


def _lambda_gb_price(prices: dict, architecture: str) -> float:
    return _price(prices, f"lambda_gb_second_{architecture.replace('-', '_')}")


def price_round(
    recorded: _Round, template: dict, prices: dict, memory_overrides: dict[str, int] | None = None
) -> dict:
    """Per million of the operation, in USD, by component; and what was counted."""
    specs = functions(template)
    auth = authorizer(template)
    authorizer_id = auth.function_id if auth else None
    architecture = (template.get("Globals", {}).get("Function", {}).get("Architectures") or ["x86_64"])[0]
    full_vcpu_mb = prices["assumptions"]["lambda_full_vcpu_mb"]
    waits = prices["assumptions"]["aws_round_trip_ms"]
    million = 1_000_000
    lambda_rows = []
    for invocation in recorded.invocations:
        memory = (memory_overrides or {}).get(
            invocation.function_id, specs[invocation.function_id].memory_size
        )
        cpu_ms = max(0.0, invocation.service_cpu_s * 1000)
        stretched = cpu_ms * max(1.0, full_vcpu_mb / memory)
        waited = sum(waits.get(service, 0) for service in invocation.calls)
        billed_ms = math.ceil(stretched + waited)
        lambda_rows.append(
            {
                "function": invocation.function_id,
                "memory_mb": memory,
                "cpu_ms": round(cpu_ms, 2),
                "billed_ms": billed_ms,
                "gb_s": billed_ms / 1000 * memory / 1024,
            }
        )
    gb_s = sum(r["gb_s"] for r in lambda_rows)
    authorizer_gb_s = sum(r["gb_s"] for r in lambda_rows if r["function"] == authorizer_id)
    authorizers = sum(1 for i in recorded.invocations if i.function_id == authorizer_id)
    rru = sum(c.rru for c in recorded.calls)
    wru = sum(c.wru + c.index_wru for c in recorded.calls)
    kms = Counter(c.kms_price for c in recorded.calls if c.kms_price)
    services = Counter(c.operation.split(".")[0] for c in recorded.calls)
    sms = sum(1 for c in recorded.calls if c.operation == "sns.Publish")
    usd = {
        "api_gateway": recorded.requests * _price(prices, "apigateway_rest_request") * million,
        "lambda_requests": len(recorded.invocations) * _price(prices, "lambda_request") * million,
        "lambda_duration": gb_s * _lambda_gb_price(prices, architecture) * million,
        "dynamodb_reads": rru * _price(prices, "dynamodb_read_request_unit") * million,
        "dynamodb_writes": wru * _price(prices, "dynamodb_write_request_unit") * million,
        "kms": sum(n * _price(prices, kind) for kind, n in kms.items()) * million,
        "sqs": services.get("sqs", 0) * _price(prices, "sqs_request") * million,
    }
    return {
        "usd_per_million": {k: round(v, 3) for k, v in usd.items()},
        "total_usd_per_million": round(sum(usd.values()), 2),
        "api_requests": recorded.requests,
        "lambda_invocations": len(recorded.invocations),
        "authorizer_invocations": authorizers,
        "lambda": lambda_rows,
        "lambda_gb_s": round(gb_s, 6),
        "authorizer_usd_per_million": round(
            (
                authorizer_gb_s * _lambda_gb_price(prices, architecture)
                + authorizers * _price(prices, "lambda_request")
            )
            * million,
            3,
        ),
        "dynamodb_rru": rru,
        "dynamodb_wru": wru,
        "dynamodb_index_wru": sum(c.index_wru for c in recorded.calls),
        "kms_requests": dict(kms),
        "sms": sms,
        "calls": [
            {
                "function": c.function_id,
                "operation": c.operation,
                **({"rru": c.rru} if c.rru else {}),
                **({"wru": c.wru} if c.wru else {}),
                **({"index_wru": c.index_wru} if c.index_wru else {}),
                **({"kms_price": c.kms_price} if c.kms_price else {}),
                **({"items": c.items} if c.items else {}),
            }
            for c in recorded.calls
        ],
    }


def measure_cost(
    container: WarmContainer,
    rounds: int = DEFAULT_COST_ROUNDS,
    memory_overrides: dict[str, int] | None = None,
) -> dict:
    """memory_overrides: price as if these functions had this MemorySize (what-if for the memory
    lever; the CPU measured is the same, Lambda's CPU share follows the memory)."""
    template = load_template()
    prices = load_prices()
    observer = _Observer(container, table_shape(template))
    rows = []
    with observer.patched():
        for operation in OPERATIONS:
            operation.run(container, operation.prepare(container))  # warm-up: imports, clients, CA
            priced = []
            for _ in range(rounds):
                prepared = operation.prepare(container)
                recorded = _Round()
                token = _ROUND.set(recorded)
                try:
                    operation.run(container, prepared)
                finally:
                    _ROUND.reset(token)
                priced.append(price_round(recorded, template, prices, memory_overrides))
            totals = [p["total_usd_per_million"] for p in priced]
            median = statistics.median_low(totals)
            row = priced[totals.index(median)]
            budget = COST_BUDGETS.get(operation.budget_key) if operation.budget_key else None
            rows.append(
                {
                    "operation": operation.name,
                    **row,
                    "rounds": rounds,
                    "round_totals": totals,
                    "budget_usd_per_million": budget,
                    "over_budget": None if budget is None else row["total_usd_per_million"] > budget,
                }
            )
    return {
        "memory_overrides": memory_overrides or {},
        # docs/design.md: reported next to AWS Private CA's per-certificate price (plus its CA-month).
        "private_ca_usd_per_million_certificates": round(
            _price(prices, "private_ca_certificate") * 1_000_000, 2
        ),
        "private_ca_usd_per_ca_month": _price(prices, "private_ca_month"),
        "prices": {
            "region": prices["region"],
            "as_of": prices["as_of"],
            "source": prices["source"],
            "file": PRICES_FILE.name,
        },
        "assumptions": prices["assumptions"],
        "rows": rows,
    }
