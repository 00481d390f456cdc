"""The service in process: moto's region, the event files, the record of the services' AWS
calls (the fault-injection seam) and `Api`, the bank's HTTP requests through the local gateway
(routes and authorizer from template.yaml, the real handlers) without a socket."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from fincert_local.demo import sms_code_in
from fincert_local.gateway import Gateway, recorded_sms
from fincert_local.gateway import Response as GatewayResponse
from fincert_local.template import load_template

from tests.support import log_safety

REGION = "ap-northeast-2"
# pkilint refuses localhost URIs in certificates, so tests use a real-looking host name.
PKI_BASE_URL = "http://pki.fincert.example"
EVENTS = Path(__file__).resolve().parents[1] / "events"


@cache
def aws_session() -> boto3.session.Session:
    """One boto3 session for the whole run (per process). A new session reads botocore's service
    models and endpoint rules from their JSON files again: ~0.4 s of CPU a test when each test
    made its own. Tests add their event hooks (AwsCalls) for their own duration only; moto is
    started and reset per test, and the session holds no AWS state."""
    return boto3.session.Session()


@cache
def _parsed_template() -> dict:
    return load_template()


def template() -> dict:
    """template.yaml as load_template() parses it, parsed once per process (~70 ms of YAML each
    time, twice a test: the `aws` and `gateway` fixtures); each caller gets its own copy."""
    return copy.deepcopy(_parsed_template())


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """An event fixture from tests/events (the same files `fincert_local invoke` takes)."""
    event = json.loads((EVENTS / name).read_text())
    event.update(overrides)
    return event


class AwsCalls:
    """Records every AWS call the services make (botocore `before-call`), and can fail the
    n-th one, the seam the fault-injection tests use."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        # Each call's serialized request body (JSON for DynamoDB), beside its name in `calls`.
        self.bodies: list[bytes] = []
        self._faults: dict[int, str] = {}
        self._operation_faults: dict[str, str] = {}
        self._lost_answers: dict[str, int] = {}  # operation -> successful calls to let through first

    def fail_call(self, number: int, code: str = "ThrottlingException") -> None:
        """Fail the `number`-th call from now (1-based) with this AWS error code."""
        self._faults[len(self.calls) + number] = code

    def fail_next(self, operation: str, code: str = "ThrottlingException") -> None:
        """Fail the next call of this operation ("dynamodb.TransactWriteItems")."""
        self._operation_faults[operation] = code

    def lose_next_answer(self, operation: str, *, after: int = 0) -> None:
        """The next successful call of this operation (past `after` others) is sent again by
        botocore's retry, as when its answer is lost on the way back: the request was carried
        out once already."""
        self._lost_answers[operation] = after

    def clear(self) -> None:
        self.calls.clear()
        self.bodies.clear()
        self._faults.clear()
        self._operation_faults.clear()
        self._lost_answers.clear()

    def needs_retry(
        self, response: Any, operation: Any, attempts: int, caught_exception: Any, **_: Any
    ) -> int | None:
        """botocore `needs-retry`: 0 (retry at once) for an answer lose_next_answer() asked to lose."""
        name = f"{operation.service_model.service_name}.{operation.name}"
        if name in self._lost_answers and caught_exception is None and response is not None and attempts == 1:
            if self._lost_answers[name] > 0:
                self._lost_answers[name] -= 1
                return None
            del self._lost_answers[name]
            return 0
        return None

    def __call__(self, model: Any, params: Any = None, **_: Any) -> None:
        operation = f"{model.service_model.service_name}.{model.name}"
        self.calls.append(operation)
        body = params.get("body") if isinstance(params, dict) else None
        self.bodies.append(body if isinstance(body, bytes) else b"")
        code = self._faults.pop(len(self.calls), None) or self._operation_faults.pop(operation, None)
        if code:
            raise ClientError({"Error": {"Code": code, "Message": "injected fault"}}, model.name)


class Api:
    """The bank's view: HTTP requests through the local gateway (routes and authorizer from
    template.yaml, the real handlers), in process, against moto."""

    def __init__(self, gateway: Gateway, api_key: str | None = None):
        self.gateway = gateway
        self.api_key = api_key

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        body: bytes | None = None,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> GatewayResponse:
        key = api_key if api_key is not None else self.api_key
        sent = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
        sent |= headers or {}
        if body is None and json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode()
        return self.gateway.handle(method, path, list(sent.items()), body or b"")

    def post(self, path: str, json_body: Any = None, **kw: Any) -> GatewayResponse:
        return self.request("POST", path, json_body, **kw)

    def get(self, path: str, **kw: Any) -> GatewayResponse:
        return self.request("GET", path, **kw)

    def last_sms_code(self, phone_e164: str) -> str:
        texts = recorded_sms(phone_e164, REGION)
        assert texts, f"no SMS sent to {phone_e164}"
        code = sms_code_in(texts[-1])
        log_safety.remember_secret(code)
        return code
