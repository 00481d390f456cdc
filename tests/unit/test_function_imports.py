"""What an API function imports for its main route: a cold start pays for every module, so a
function must not import the code of routes, aggregates or jobs it never runs (docs/benchmarks.md,
cold start; docs/design.md's budget: handler <= 1.5x the floor).

Each case runs a fresh interpreter that imports the handler from its file, as the gateway and
Lambda do, then asks the composition root for the use cases the route calls (which builds their
storage, without any AWS call), and lists sys.modules. Module names, not times: a time depends
on the machine, an import chain that comes back does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Settings need these to exist; no AWS call is made, so their values do not matter.
_ENV = {
    "TABLE_NAME": "fincert",
    "ROOT_CA_KEY_ID": "alias/root",
    "ISSUING_CA_KEY_ID": "alias/issuing",
    "KEY_WRAP_KEY_ID": "alias/wrap",
    "HMAC_KEY_ID": "alias/hmac",
    "CONTENT_MAC_KEY_ID": "alias/content-mac",
    "PKI_BASE_URL": "https://pki.example",
    "CERTIFICATE_POLICY_OID": "1.3.6.1.4.1.32473.1.1",
    "AWS_DEFAULT_REGION": "ap-northeast-2",
}

_CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("fincert_fn_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
from fincert.wiring import services
svc = services()
for name in sys.argv[2:]:
    getattr(svc, name)
print(json.dumps(sorted(sys.modules)))
"""

# Never needed by any API function's main route: the whole table and the scheduled jobs' code.
_NOT_FOR_API = {
    "fincert.adapters.dynamodb.store",
    "fincert.adapters.dynamodb.jobs",
    "fincert.adapters.dynamodb.purge",
    "fincert.domain.job_records",
    "fincert.domain.jobs",
}
# What generates the OpenAPI document (fincert.api.openapi_build): build time only. Requests are
# routed and validated by fincert.api.routing and fincert.api.schema (issue 12: ~150-200 ms of
# every cold start was Powertools' event handler and pydantic).
_BUILD_TIME_ONLY = {
    "pydantic",
    "pydantic_core",
    "aws_lambda_powertools.event_handler",
    "fincert.api.openapi_build",
}
_ISSUANCE = {
    "fincert.domain.enrollment",
    "fincert.domain.minting",
    "fincert.domain.enrollment_records",
    "fincert.adapters.dynamodb.enrollments",
    "fincert.adapters.dynamodb.issuance",
    "fincert.crypto.x509_profile",
}
_TICKETS = {
    "fincert.domain.ui_tickets",
    "fincert.domain.window_access",
    "fincert.domain.ticket_records",
    "fincert.adapters.dynamodb.tickets",
}

# function directory, the use cases (Services attributes) its main route asks for, and modules
# it must not import.
CASES = {
    "authorizer": (
        ["access_store"],
        _NOT_FOR_API
        | _ISSUANCE
        | {"pydantic", "cryptography.x509", "fincert.adapters.dynamodb.accounts", "fincert.domain.accounts"},
    ),
    "cors": (["institution_store"], _NOT_FOR_API | _ISSUANCE | _TICKETS | {"pydantic", "cryptography.x509"}),
    "csc": (["signing"], _NOT_FOR_API | _ISSUANCE | _TICKETS | {"fincert.domain.accounts"}),
    "connection": (["accounts", "devices"], _NOT_FOR_API | _ISSUANCE | _TICKETS | {"fincert.domain.signing"}),
    "customer": (["accounts", "devices"], _NOT_FOR_API | _ISSUANCE | _TICKETS | {"fincert.domain.signing"}),
    "status": (["certificate_status"], _NOT_FOR_API | _ISSUANCE | _TICKETS | {"fincert.domain.signing"}),
    "enrollment": (
        ["enrollment"],
        _NOT_FOR_API | _TICKETS | {"fincert.domain.signing", "fincert.domain.accounts"},
    ),
    # The window's redeem (and its connection flows): no issuance, signing or X.509 code.
    # Its routes: the redeem, the connection flows and the bank's ticket calls (which read the
    # enrollment an issue ticket names: its record, not the issuance code).
    "window": (
        ["window", "ui_tickets", "accounts", "devices"],
        _NOT_FOR_API
        | (_ISSUANCE - {"fincert.adapters.dynamodb.enrollments", "fincert.domain.enrollment_records"})
        | {"fincert.domain.signing", "cryptography.x509", "asn1crypto"},
    ),
    "window_customer": (
        ["window", "devices", "accounts", "certificate_status"],
        _NOT_FOR_API | _ISSUANCE | {"fincert.domain.signing", "cryptography.x509", "asn1crypto"},
    ),
    "window_signing": (["window_signing"], _NOT_FOR_API | _ISSUANCE),
    "window_issuance": (["window_issuance"], _NOT_FOR_API | {"fincert.domain.signing"}),
    # GET /pki/chain.pem: the CA's record.
    "pki": (
        ["institution_store"],
        _NOT_FOR_API | _ISSUANCE | _TICKETS | {"pydantic", "fincert.domain.accounts"},
    ),
}


def imported_modules(function: str, use_cases: list[str], extra_import: str | None = None) -> set[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")},
        **_ENV,
        # The layer where Lambda puts it, before whatever the venv's install points at.
        "PYTHONPATH": str(ROOT / "layers" / "fincert"),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-P",
            "-c",
            (f"import {extra_import}\n" if extra_import else "") + _CHILD,
            str(ROOT / "functions" / function / "app.py"),
            *use_cases,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("function", sorted(CASES))
def test_a_function_imports_only_what_its_route_needs(function: str) -> None:
    use_cases, forbidden = CASES[function]
    forbidden = forbidden | _BUILD_TIME_ONLY
    modules = imported_modules(function, use_cases)
    # The child really built the route's use cases (or the test would prove nothing).
    assert "fincert.wiring" in modules and "fincert_fn_under_test" in modules
    assert not sorted(forbidden & modules)


def test_the_check_sees_a_module_a_route_imports() -> None:
    """The same child does list what a route needs (so an empty intersection above means absent)."""
    modules = imported_modules("enrollment", ["enrollment"])
    assert {
        "fincert.domain.enrollment",
        "fincert.adapters.dynamodb.issuance",
        "fincert.api.schema",
    } <= modules
    # ... and would see pydantic if a function imported it.
    assert "pydantic" in imported_modules(
        "enrollment", ["enrollment"], extra_import="fincert.api.openapi_build"
    )


def test_a_narrow_store_runs_the_very_code_of_the_whole_table() -> None:
    """Each composition a use case gets in Lambda resolves every method it has to the same
    function DynamoStore does, so the tests, which hand Services one DynamoStore, test the code
    the functions run (a method defined in two table modules would make the order of bases
    decide which one runs)."""
    from fincert.adapters.dynamodb.access_store import AccessStore
    from fincert.adapters.dynamodb.customer_store import CustomerStore
    from fincert.adapters.dynamodb.institutions import InstitutionTable
    from fincert.adapters.dynamodb.issuance_store import IssuanceStore
    from fincert.adapters.dynamodb.revocation_store import RevocationStore
    from fincert.adapters.dynamodb.store import DynamoStore
    from fincert.adapters.dynamodb.ticket_store import TicketStore
    from fincert.adapters.dynamodb.window_store import WindowStore

    for narrow in (
        AccessStore,
        CustomerStore,
        IssuanceStore,
        RevocationStore,
        InstitutionTable,
        TicketStore,
        WindowStore,
    ):
        names = {name for cls in narrow.__mro__[:-1] for name in vars(cls) if not name.startswith("__")}
        different = sorted(n for n in names if getattr(narrow, n) is not getattr(DynamoStore, n))
        assert not different, f"{narrow.__name__}: {different}"
