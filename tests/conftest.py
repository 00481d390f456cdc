"""Shared fixtures. AWS is moto, built from template.yaml (fincert_local.resources), so the
tests cannot drift from the infrastructure, and corrected where it is not faithful to AWS by
fincert_local.moto_fixes, the same corrections the local stack runs with. The helpers they are
built from are in tests/support."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fincert.adapters.clients import AwsClients
from fincert.adapters.dynamodb.store import DynamoStore
from fincert.admin import bootstrap_ca
from fincert.clock import FixedClock
from fincert.domain.institution_records import Scope
from fincert.domain.institutions import register_institution
from fincert.settings import get_settings
from fincert.wiring import Services, services, use_services
from fincert_local import moto_fixes
from fincert_local.gateway import Gateway
from fincert_local.resources import LocalResources, create_resources
from fincert_local.template import repo_root
from moto import mock_aws

from tests.support import key_pool, log_safety
from tests.support.in_process import PKI_BASE_URL, REGION, Api, AwsCalls, aws_session, template
from tests.support.people import PERSONAL_DATA
from tests.support.stack import RunningStack, running_stack


def pytest_configure(config: pytest.Config) -> None:
    # Before any handler module creates its Logger: the log-safety test checks DEBUG lines too.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "DEBUG")
    log_safety.install()
    # Process-wide for the whole session (a test shows a gap with `moto_fixes.without(name)`).
    # The TTL sweeper is not started: a test that wants expiry calls TtlSweeper.sweep_once.
    moto_fixes.apply_all()
    key_pool.install()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    # schemathesis 4.32 under pytest 9 gives each operation's item the bare function name as its
    # id (pytest now builds ids from originalname and the callspec, and schemathesis sets neither
    # per operation): 32 items, one id. pytest-xdist's --dist loadfile schedules by id and ran one
    # of them. Each gets its operation in its id, as schemathesis names it.
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and item.nodeid == f"{item.parent.nodeid}::{item.originalname}":
            item._id = item._id.with_params(label)
    # And never again: xdist would drop all but one of the items that share an id, silently.
    ids = Counter(item.nodeid for item in items)
    if shared := sorted(nodeid for nodeid, count in ids.items() if count > 1):
        raise pytest.UsageError(
            "test ids must be unique (pytest-xdist runs one of each):\n" + "\n".join(shared)
        )
    # The log-safety test judges the logs of every test before it in its process: it runs last.
    # The longest file starts first: handed out last, it would run alone after the others ended.
    items.sort(
        key=lambda item: (
            item.get_closest_marker("runs_last") is not None,
            item.get_closest_marker("runs_first") is None,
        )
    )


# --- every log line of the run is judged (tests/support/log_safety.py) ------------------------
# Under pytest-xdist each worker captures its own lines and hands them to the controller when it
# finishes; the controller judges them all together, after the last worker is done.
_WORKERS_SEEN: dict[str, dict[str, list[str]] | None] = {}
_LOG_CHECK = "tests/integration/test_log_safety.py::every log line of the run"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """An xdist worker finished (or died: then it handed nothing over, and that fails the run)."""
    _WORKERS_SEEN[node.gateway.id] = getattr(node, "workeroutput", {}).get("log_safety")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: its controller judges
        workeroutput["log_safety"] = log_safety.snapshot()
        return
    seen = {"this process": log_safety.snapshot(), **_WORKERS_SEEN}
    problems = [
        f"{name} handed over no log lines (it died?)" for name, lines in seen.items() if lines is None
    ]
    problems += log_safety.judge([lines for lines in seen.values() if lines is not None], known=PERSONAL_DATA)
    if problems:
        # A failed report, as xdist makes for a crashed worker's test: counted in the summary
        # line and shown under FAILURES, and the run exits 1.
        text = f"secrets or personal data in the log lines of {', '.join(seen)}:\n" + "\n".join(problems[:20])
        session.config.hook.pytest_runtest_logreport(
            report=pytest.TestReport(
                nodeid=_LOG_CHECK,
                location=(_LOG_CHECK.split("::")[0], None, _LOG_CHECK.split("::")[1]),
                keywords={},
                outcome="failed",
                longrepr=text,
                when="call",
            )
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _offline_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach real AWS, whatever the developer's shell holds."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def aws_calls() -> AwsCalls:
    return AwsCalls()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, aws_calls: AwsCalls) -> Iterator[LocalResources]:
    """moto with template.yaml's table and keys, and the functions' environment applied."""
    session = aws_session()
    key_pool.POOL.restart()
    with mock_aws():
        resources = create_resources(template(), region=REGION, session=session)
        for name, value in (resources.function_environment() | {"PKI_BASE_URL": PKI_BASE_URL}).items():
            monkeypatch.setenv(name, value)
        use_services(None)
        # Clients copy the session's hooks when they are created: the services' clients (created
        # on first use, from now on) carry this test's, the resources' clients above do not.
        session.events.register("before-call", aws_calls)
        session.events.register("needs-retry", aws_calls.needs_retry)
        try:
            clients, settings = AwsClients(session=session), get_settings()
            # One store for every storage role (a Lambda's Services builds narrower ones per use
            # case): tests inject faults and races by patching services().store's methods.
            store = DynamoStore(lambda: clients.dynamodb, settings.table_name)
            use_services(Services(settings, clients=clients, store=store))
            yield resources
        finally:
            use_services(None)
            session.events.unregister("before-call", aws_calls)
            session.events.unregister("needs-retry", aws_calls.needs_retry)


@pytest.fixture
def svc(aws: LocalResources) -> Services:
    return services()


@pytest.fixture
def clock(aws: LocalResources) -> FixedClock:
    """Freezes the services' clock; move it with `clock.at = ...`."""
    fixed = FixedClock(datetime.now(UTC).replace(microsecond=0))
    use_services(Services(get_settings(), clients=services().clients, clock=fixed, store=services().store))
    return fixed


@pytest.fixture
def ca(svc: Services):
    # As fincert-admin bootstrap-ca: the OCSP responder and the TSA too, which every signature's
    # evidence needs (fincert.domain.timestamping.signing_evidence).
    authority = bootstrap_ca(svc)
    with key_pool.responder_keys():
        svc.ensure_ocsp_responder()
    svc.ensure_timestamp_authority()
    return authority


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


@pytest.fixture
def gateway(aws: LocalResources) -> Gateway:
    # No authorizer cache: every request then makes the same AWS calls, which the counting tests need.
    return Gateway(template(), repo_root(), region=REGION, authorizer_cache=False)


@pytest.fixture
def api(gateway: Gateway, bank: dict[str, str]) -> Api:
    return Api(gateway, bank["api_key"])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The local stack in a subprocess, over HTTP; one for the whole session (tests/e2e and
    tests/local_stack share it), started by the first test that asks for it."""
    with running_stack(tmp_path_factory.mktemp("local-stack")) as started:
        yield started
