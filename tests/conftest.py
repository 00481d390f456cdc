"""Shared fixtures. AWS is moto, built from template.yaml (fincert_local.resources), so the
tests cannot drift from the infrastructure."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from fincert.adapters.clients import AwsClients
from fincert.admin import bootstrap_ca
from fincert.clock import FixedClock
from fincert.domain.institutions import register_institution
from fincert.domain.model import Scope
from fincert.settings import get_settings
from fincert.wiring import Services, services, use_services
from fincert_local.demo import sms_code_in
from fincert_local.gateway import Gateway, recorded_sms
from fincert_local.gateway import Response as GatewayResponse
from fincert_local.resources import LocalResources, create_resources
from fincert_local.template import load_template, repo_root
from moto import mock_aws

from tests import log_safety


def pytest_configure(config: pytest.Config) -> None:
    # Before any handler module creates its Logger: the log-safety test checks DEBUG lines too.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "DEBUG")
    log_safety.install()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    # The log-safety test judges the logs of every test before it: it runs last.
    items.sort(key=lambda item: item.get_closest_marker("runs_last") is not None)


REGION = "ap-northeast-2"
# pkilint refuses localhost URIs in certificates, so tests use a real-looking host name.
PKI_BASE_URL = "http://pki.fincert.example"
EVENTS = Path(__file__).parent / "events"


@pytest.fixture(autouse=True)
def _offline_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach real AWS, whatever the developer's shell holds."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


class AwsCalls:
    """Records every AWS call the services make (botocore `before-call`), and can fail the
    n-th one, the seam the fault-injection tests use."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._faults: dict[int, str] = {}
        self._operation_faults: dict[str, str] = {}

    def fail_call(self, number: int, code: str = "ThrottlingException") -> None:
        """Fail the `number`-th call from now (1-based) with this AWS error code."""
        self._faults[len(self.calls) + number] = code

    def fail_next(self, operation: str, code: str = "ThrottlingException") -> None:
        """Fail the next call of this operation ("dynamodb.TransactWriteItems")."""
        self._operation_faults[operation] = code

    def clear(self) -> None:
        self.calls.clear()
        self._faults.clear()
        self._operation_faults.clear()

    def __call__(self, model: Any, **_: Any) -> None:
        operation = f"{model.service_model.service_name}.{model.name}"
        self.calls.append(operation)
        code = self._faults.pop(len(self.calls), None) or self._operation_faults.pop(operation, None)
        if code:
            raise ClientError({"Error": {"Code": code, "Message": "injected fault"}}, model.name)


@pytest.fixture
def aws_calls() -> AwsCalls:
    return AwsCalls()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, aws_calls: AwsCalls) -> Iterator[LocalResources]:
    """moto with template.yaml's table and keys, and the functions' environment applied."""
    with mock_aws():
        resources = create_resources(load_template(), region=REGION)
        for name, value in (resources.function_environment() | {"PKI_BASE_URL": PKI_BASE_URL}).items():
            monkeypatch.setenv(name, value)
        use_services(None)
        session = boto3.session.Session()
        session.events.register("before-call", aws_calls)
        use_services(Services(get_settings(), clients=AwsClients(session=session)))
        yield resources
        use_services(None)


@pytest.fixture
def svc(aws: LocalResources) -> Services:
    return services()


@pytest.fixture
def clock(aws: LocalResources) -> FixedClock:
    """Freezes the services' clock; move it with `clock.at = ...`."""
    fixed = FixedClock(datetime.now(UTC).replace(microsecond=0))
    use_services(Services(get_settings(), clients=services().clients, clock=fixed))
    return fixed


@pytest.fixture
def ca(svc: Services):
    return bootstrap_ca(svc)


@pytest.fixture
def bank(svc: Services, ca) -> dict[str, str]:
    _, api_key = register_institution(svc.store, "demo-bank", "Demo Bank", [s.value for s in Scope])
    log_safety.remember_secret(api_key)
    return {"institution_id": "demo-bank", "api_key": api_key}


@pytest.fixture
def other_bank(svc: Services, ca) -> dict[str, str]:
    _, api_key = register_institution(svc.store, "other-bank", "Other Bank", [s.value for s in Scope])
    log_safety.remember_secret(api_key)
    return {"institution_id": "other-bank", "api_key": api_key}


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """An event fixture from tests/events (the same files `fincert_local invoke` takes)."""
    event = json.loads((EVENTS / name).read_text())
    event.update(overrides)
    return event


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


@pytest.fixture
def gateway(aws: LocalResources) -> Gateway:
    # No authorizer cache: every request then makes the same AWS calls, which the counting tests need.
    return Gateway(load_template(), repo_root(), region=REGION, authorizer_cache=False)


@pytest.fixture
def api(gateway: Gateway, bank: dict[str, str]) -> Api:
    return Api(gateway, bank["api_key"])
