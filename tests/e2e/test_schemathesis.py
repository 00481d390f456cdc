"""Schemathesis against the local stack: requests generated from docs/openapi.json, over HTTP.

Every operation in the document, the bank API and the public /pki routes, gets schema-valid and
schema-violating requests (Hypothesis fuzzing plus schemathesis's coverage cases: boundaries, wrong
types, undeclared methods and content types, missing auth). Each response must pass all of
schemathesis's default checks, among them: no 5xx (not_a_server_error), a documented status code,
a documented content type and a body matching the documented schema.

Generated requests almost never carry a real identity (Korean mobile, valid birth date, Hangul or
Latin name, terms accepted), so they start no enrollment and send no SMS: the per-institution SMS
limit (1000/hour) is not at risk. The success responses are therefore checked by a second test
that walks the issuance flow with realistic data through the same schemathesis checks.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric import ec
from fincert.api.security import CUSTOMER_SESSION, WINDOW_CREDENTIAL
from schemathesis.config import SchemathesisConfig

from tests.support import log_safety
from tests.support.customers import Customer, connected
from tests.support.device_keys import new_device_key, spki_b64
from tests.support.stack import REPO, RunningStack
from tests.support.window import opened

pytestmark = pytest.mark.e2e

# Routes that take a customer session token; the rest (/v1/signatures/verify too) take the
# institution's API key.
CUSTOMER_PATHS = "^/(csc/|v1/(registrations|pin$|devices|history|signatures$|sessions|certificate))"
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "mode": "all",  # positive and negative data
            "max-examples": 50,  # per operation, fuzzing phase (Hypothesis deadline: schemathesis sets none)
            "deterministic": True,  # Hypothesis derandomize: the same requests on every run and in CI
            "database": "none",  # no example database: a run never replays another machine's failures
        },
        "checks": {
            # Schema-valid is not always acceptable: the domain refuses what no JSON schema says
            # (a weak PIN, 20231340, a landline: 400 with their own codes), and a well-formed id
            # may name no enrollment (404) or a spent one (409/410). All are documented answers.
            "positive_data_acceptance": {"expected-statuses": ["2XX", "400", "404", "409", "410"]},
            # Invalid data must be refused. Past the 16 KiB body limit (a string far over its
            # maxLength can get there) the refusal is 413, before the schema is looked at: a
            # documented refusal like the 4xx schemathesis expects by default.
            "negative_data_rejection": {
                "expected-statuses": [
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "406",
                    "409",
                    "413",
                    "415",
                    "422",
                    "428",
                    "429",
                ]
            },
        },
        "operations": [
            {
                # An undeclared method on a public route gets API Gateway's 403 "Missing
                # Authentication Token" (REST APIs answer so for any unconfigured method), not 405.
                "include-path-regex": "^/(pki/|csc/v1/info$|v1/window/redeem$|v1/health$|hosted/|sdk/)",
                "checks": {"unsupported_method": {"enabled": False}},
            },
            {
                # Customer routes run with one customer's session: generated PINs soon lock the
                # PIN (403 pin_locked) and the customer may not be registered (403), both
                # documented refusals of schema-valid requests.
                "include-path-regex": CUSTOMER_PATHS.replace("signatures$|", ""),
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2XX", "400", "403", "404", "409", "410"]
                    }
                },
            },
            {
                # The same, and: up to 10 contents, each within its maxLength, can together pass
                # the 16 KiB body limit (413, a documented refusal).
                "include-path-regex": "^/v1/signatures$",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2XX", "400", "403", "404", "409", "410", "413"]
                    }
                },
            },
            {
                # Each field is within its maxLength, but signature + content + certificate
                # together can pass the 16 KiB body limit: 413, a documented refusal.
                "include-path-regex": "^/v1/signatures/verify$",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2XX", "400", "413"]}},
            },
            {
                # A generated ticket is never one the service minted: 401 ticket_invalid.
                "include-path-regex": "^/v1/window/redeem$",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2XX", "400", "401", "403", "409", "410"]
                    }
                },
            },
            {
                # The window's routes run with a window of their own per operation (a manage
                # window connected by a remembered device; a sign window for /signatures, a
                # connect window for /connect-code): a route for another purpose, or one whose
                # flow an earlier example completed, is a documented refusal (403, 410).
                "include-path-regex": "^/v1/window/(?!redeem$)",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2XX", "400", "403", "404", "409", "410"]
                    }
                },
            },
            {
                # Ending the session mid-run would leave every later customer request a 401;
                # tests/integration/test_connection.py covers it.
                "include-path-regex": "^/v1/sessions/current$",
                "enabled": False,
            },
        ],
    }
)
schema = schemathesis.openapi.from_path(REPO / "docs" / "openapi.json", config=CONFIG)
# Headers that frame the HTTP message belong to the transport, not to the API this document
# describes: a request whose framing they break never reaches a route (API Gateway's front door
# refuses it; the local gateway answers 400 {"message": "Bad Request"}, as
# tests/local_stack/test_local_gateway_framing.py checks). Hypothesis draws header names from the
# string constants of the modules loaded (gateway.py has "Transfer-Encoding"), so whether a run
# generates one depends on which other tests share the session: they are left out.
FRAMING_HEADERS = (
    "Transfer-Encoding",
    "Content-Length",
    "Connection",
    "Expect",
    "TE",
    "Trailer",
    "Upgrade",
    "Host",
)


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def auth(stack: RunningStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.api_key}"}


@pytest.fixture(scope="module")
def customer_session(stack: RunningStack) -> dict[str, str]:
    """One connected customer (issued, then connected by SMS) for the customer routes."""
    phone = f"010{secrets.randbelow(10**8):08d}"
    identity = {"name": "박지민", "phone": phone, "birth_date": "19881111"}
    enrollment = stack.post("/v1/enrollments", identity | {"terms_accepted": True}).json()
    code = stack.sms_code("+82" + phone[1:])
    issued = stack.post(
        f"/v1/enrollments/{enrollment['enrollment_id']}/confirm", {"sms_code": code, "pin": "802468"}
    )
    assert issued.status_code == 201, issued.text
    verification = stack.post("/v1/connections", identity).json()
    code = stack.sms_code("+82" + phone[1:])
    session = stack.post(f"/v1/connections/{verification['verification_id']}/confirm", {"sms_code": code})
    assert session.status_code == 201, session.text
    token = session.json()["session_token"]
    log_safety.remember_secret(phone, "+82" + phone[1:], token)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def window_customer(stack: RunningStack) -> tuple[Customer, str, ec.EllipticCurvePrivateKey]:
    """A customer whose certificate is registered with the stack's bank and who remembered a
    browser: windows connect with its device key, no SMS (the per-phone SMS limit stays clear)."""
    customer = connected(stack)
    key = new_device_key()
    registered = customer.call("POST", "/v1/devices", {"name": "schemathesis", "public_key": spki_b64(key)})
    assert registered.status_code == 201, registered.text
    return customer, registered.json()["device_handle"], key


WINDOW_PURPOSES = {"/v1/window/signatures": "sign", "/v1/window/connect-code": "connect"}
# These end their window on the first success: every example gets a window of its own.
ENDS_THE_WINDOW = {"/v1/window/cancel", "/v1/window/finish"}


def window_for(stack: RunningStack, path: str, window_customer) -> dict[str, str]:
    purpose = WINDOW_PURPOSES.get(path, "manage")
    sign = (
        {"sign": {"sign_type": "transfer", "contents": [{"text": "schemathesis 1원"}]}}
        if purpose == "sign"
        else {}
    )
    # The stack's bootstrap registers its own URL as its bank's browser origin.
    window = opened(stack, purpose, origin=stack.url, **sign)
    _, handle, key = window_customer
    connected_flow = window.connect_device(handle, key)
    assert connected_flow.status_code == 200, connected_flow.text
    return {"Authorization": f"Bearer {window.token}"}


@pytest.fixture(scope="module")
def windows() -> dict[str, dict[str, str]]:
    """The window each window operation runs with (by path)."""
    return {}


@schema.parametrize()
def test_every_generated_request_gets_a_documented_answer(
    case: schemathesis.Case,
    stack: RunningStack,
    http: requests.Session,
    customer_session: dict[str, str],
    window_customer,
    windows: dict[str, dict[str, str]],
) -> None:
    scheme = next(iter(case.operation.definition.raw.get("security", [{}])[0]), None)
    if scheme == WINDOW_CREDENTIAL:
        if case.path in ENDS_THE_WINDOW or case.path not in windows:
            windows[case.path] = window_for(stack, case.path, window_customer)
        headers = windows[case.path]
    elif scheme == CUSTOMER_SESSION:
        headers = customer_session
    else:
        headers = auth(stack)
    for name in FRAMING_HEADERS:
        case.headers.pop(name, None)
    case.call_and_validate(base_url=stack.url, session=http, headers=headers, timeout=30)


@pytest.mark.parametrize("algorithm", ["RSA_2048", "EC_P256"])
def test_the_issuance_flow_answers_as_documented(stack: RunningStack, http: requests.Session, algorithm):
    phone = f"010{secrets.randbelow(10**8):08d}"
    body = {
        "name": "이서연",
        "phone": phone,
        "birth_date": "19900305",
        "terms_accepted": True,
        "auto_renew": True,
        "key_algorithm": algorithm,
    }
    pin = "802468"
    log_safety.remember_secret(phone, "+82" + phone[1:], pin)
    call = {"base_url": stack.url, "session": http, "headers": auth(stack), "timeout": 30}

    started = schema["/v1/enrollments"]["POST"].Case(body=body, media_type="application/json")
    response = started.call_and_validate(**call)
    assert response.status_code == 201, response.text
    enrollment = {"enrollment_id": response.json()["enrollment_id"]}
    code = stack.sms_code("+82" + phone[1:])

    confirm = schema["/v1/enrollments/{enrollment_id}/confirm"]["POST"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = confirm.Case(path_parameters=enrollment, body={"sms_code": wrong, "pin": pin})
    response = refused.call_and_validate(**call)
    assert response.status_code == 400, response.text

    for attempt in ("first", "retry"):  # a retry answers with the same certificate
        issued = confirm.Case(path_parameters=enrollment, body={"sms_code": code, "pin": pin})
        response = issued.call_and_validate(**call)
        assert response.status_code == 201, (attempt, response.text)
        assert response.json()["key_algorithm"] == algorithm


def test_signing_and_verifying_answer_as_documented(stack: RunningStack, http: requests.Session):
    """POST /v1/signatures with several contents of each kind and two formats, then the verify
    call for each signature, through schemathesis's checks (the 201 and 200 bodies match the
    document, every field it marks required is there)."""
    customer = connected(stack)
    session = {"Authorization": f"Bearer {customer.token}"}
    data = "전자약관 동의".encode()
    body = {
        "contents": [
            {"text": "이체 확인 10,000원"},
            {"base64": base64.b64encode(data).decode(), "name": "약관.pdf"},
            {"sha256": hashlib.sha256(data).hexdigest()},
        ],
        "sign_type": "04",
        "formats": ["cms_detached", "raw"],
        "pin": customer.pin,
    }
    call = {"base_url": stack.url, "session": http, "timeout": 30}
    sign = schema["/v1/signatures"]["POST"].Case(body=body, media_type="application/json")
    response = sign.call_and_validate(headers=session, **call)
    assert response.status_code == 201, response.text
    answer = response.json()

    verify = schema["/v1/signatures/verify"]["POST"]
    # What the bank holds of each content: the text, the bytes, the bytes it hashed.
    held = [
        {"content": "이체 확인 10,000원"},
        {"content_base64": base64.b64encode(data).decode()},
        {"content_sha256": hashlib.sha256(data).hexdigest()},
    ]
    for index, content in enumerate(held):
        for signature in answer["contents"][index]["signatures"]:
            request = {
                "signature": signature["signature"],
                "format": signature["format"],
                "certificate_pem": answer["certificate_pem"],
                **content,
            }
            checked = verify.Case(body=request, media_type="application/json").call_and_validate(
                headers=auth(stack), **call
            )
            assert checked.status_code == 200, checked.text
            assert checked.json()["valid"] is True, (index, signature["format"], checked.json())
