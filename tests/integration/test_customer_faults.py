"""AWS faults in the customer flows besides authorize/signHash (test_csc_faults.py): a FinCert
signature, a PIN change, a connection confirm and a PIN reset. A fault injected at each AWS call
in turn is a 503 with a retry hint, leaves nothing half-done, and the same request retried
succeeds; the only leftover is the one docs/design.md#faults-and-allowed-leftovers names, a reserved PIN slot, which the successful
retry forgives."""

from __future__ import annotations

import pytest
from fincert.wiring import services

from tests.support.customers import Customer, connected
from tests.support.emf import emf_lines, metric_totals
from tests.support.table import account_item

AUTHORIZER = 1  # the authorizer's read (a BatchGetItem of the session and its institution) comes first
SIGN_CALLS = [
    "dynamodb.UpdateItem",  # PIN slot
    "kms.VerifyMac",
    "dynamodb.GetItem",  # credential
    "kms.Decrypt",  # the subscriber key
    # The TSA's time-stamp token of each of the 6 signatures (3 contents, 2 formats).
    *["kms.Sign"] * 6,
    "dynamodb.TransactWriteItems",  # with the tokens' ledger records
]
PIN_CHANGE_CALLS = [
    "dynamodb.GetItem",  # account
    "kms.Decrypt",  # identity: the birth date (PIN policy) and the phone (notice)
    "dynamodb.UpdateItem",
    "kms.VerifyMac",
    "kms.GenerateMac",  # the new verifier
    "dynamodb.TransactWriteItems",
]
CONFIRM_CALLS = [
    "dynamodb.UpdateItem",  # claim the verification
    "kms.Decrypt",
    "dynamodb.GetItem",  # account: registered here?
    "dynamodb.TransactWriteItems",
]
RESET_CALLS = [
    "dynamodb.UpdateItem",
    "kms.Decrypt",
    "dynamodb.GetItem",  # account
    "kms.GenerateMac",
    "dynamodb.TransactWriteItems",
]


@pytest.fixture
def warm(aws):
    """A warm container (what the budgets count, docs/design.md#round-trips): the key of the
    history's content values is derived, as a container's first signature derives it
    (tests/integration/test_csc_faults.py fails that derivation)."""
    services().content_macs.of(bytes(32))


def _account(customer: Customer) -> dict:
    return account_item(customer.account_id)


def _failures(customer: Customer) -> int:
    item = _account(customer)
    return int(item["pin_attempts"]) - int(item["pin_cleared"])


def _events(customer: Customer) -> list[str]:
    return [e["event"] for e in customer.call("GET", "/v1/history?limit=100").json()["entries"]]


def _unavailable(response) -> None:
    assert response.status == 503, response.body
    assert response.header("Retry-After")


def _sign(customer: Customer, pin: str | None = None):
    # Several contents and formats: the same calls as one (SIGN_CALLS) but a time-stamp per signature.
    contents = [{"text": "이체 10,000원"}, {"base64": "JVBERi0xLjcK"}, {"sha256": "ab" * 32}]
    return customer.sign_contents(contents, ["cms_detached", "raw"], pin=pin)


def _warm(customer: Customer) -> None:
    """A container's first signature also reads the TSA and OCSP responder records and decrypts
    the responder's key (once per container): sign once so that the calls counted are a warm
    container's."""
    assert _sign(customer).status == 201


def test_the_flows_make_the_calls_these_tests_fail(api, aws_calls, warm):
    customer = connected(api)
    _warm(customer)
    aws_calls.clear()
    assert _sign(customer).status == 201
    assert aws_calls.calls[AUTHORIZER:] == SIGN_CALLS


@pytest.mark.parametrize("failing", range(len(SIGN_CALLS)))
def test_a_fault_in_a_fincert_signature_signs_nothing_and_the_retry_signs(api, aws_calls, failing, warm):
    customer = connected(api)
    _warm(customer)
    aws_calls.clear()
    aws_calls.fail_call(AUTHORIZER + failing + 1)
    _unavailable(_sign(customer))
    assert _events(customer).count("signed") == 1, "only the warm-up's"
    retry = _sign(customer)
    assert retry.status == 201, retry.body
    assert _events(customer).count("signed") == 2
    assert _failures(customer) == 0, "the retry's right PIN forgave the failed attempt's slot"


@pytest.mark.parametrize("failing", range(len(PIN_CHANGE_CALLS)))
def test_a_fault_in_a_pin_change_keeps_the_old_pin_and_the_retry_changes_it(api, aws_calls, failing):
    customer = connected(api)
    aws_calls.clear()
    aws_calls.fail_call(AUTHORIZER + failing + 1)
    body = {"pin": customer.pin, "new_pin": "246813"}
    _unavailable(customer.call("PUT", "/v1/pin", body))
    assert aws_calls.calls[AUTHORIZER : AUTHORIZER + failing + 1] == PIN_CHANGE_CALLS[: failing + 1]
    assert "pin_changed" not in _events(customer)
    assert _sign(customer).status == 201, "the old PIN still works"

    assert customer.call("PUT", "/v1/pin", body).status == 204
    assert _sign(customer, "246813").status == 201
    assert _failures(customer) == 0


@pytest.mark.parametrize("failing", range(len(CONFIRM_CALLS)))
def test_a_fault_in_a_connection_confirm_leaves_the_code_usable(api, aws_calls, failing):
    customer = Customer(api, connected(api).identity)
    verification_id = customer.start_connection()
    code = api.last_sms_code(customer.phone)
    aws_calls.clear()
    aws_calls.fail_call(AUTHORIZER + failing + 1)
    path = f"/v1/connections/{verification_id}/confirm"
    _unavailable(api.post(path, {"sms_code": code}))
    assert aws_calls.calls[AUTHORIZER : AUTHORIZER + failing + 1] == CONFIRM_CALLS[: failing + 1]

    retry = api.post(path, {"sms_code": code})
    assert retry.status == 201, retry.body
    customer.token = retry.json()["session_token"]
    assert retry.json()["institution_registered"] is True
    assert customer.call("GET", "/v1/devices").status == 200, "the session works"
    assert _events(customer).count("connected") == 2  # the first connection and this one


@pytest.mark.parametrize("failing", range(len(RESET_CALLS)))
def test_a_fault_in_a_pin_reset_changes_nothing_and_the_retry_resets(api, aws_calls, failing):
    customer = connected(api)
    started = api.post("/v1/pin-resets", customer.identity).json()
    code = api.last_sms_code(customer.phone)
    path = f"/v1/pin-resets/{started['verification_id']}/confirm"
    aws_calls.clear()
    aws_calls.fail_call(AUTHORIZER + failing + 1)
    _unavailable(api.post(path, {"sms_code": code, "new_pin": "246813"}))
    assert aws_calls.calls[AUTHORIZER : AUTHORIZER + failing + 1] == RESET_CALLS[: failing + 1]
    assert "pin_reset" not in _events(customer)
    assert _sign(customer).status == 201, "the old PIN still works"

    assert api.post(path, {"sms_code": code, "new_pin": "246813"}).status == 204
    assert _sign(customer, "246813").status == 201


def test_a_fault_writing_a_wrong_codes_audit_entry_keeps_the_400(api, aws_calls, capsys, caplog):
    """The customer's mistake stays a 400 (their attempt counted) even when its audit entry could
    not be written; the lost entry is counted and its fault logged, never as a 503."""
    customer = Customer(api, connected(api).identity)
    verification_id = customer.start_connection()
    capsys.readouterr()
    aws_calls.fail_next("dynamodb.PutItem")  # the failure's audit entry, the flow's only PutItem
    wrong = api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": "000000"})
    assert (wrong.status, wrong.json()["error"]["code"]) == (400, "sms_code_invalid")
    out = capsys.readouterr().out
    assert metric_totals(emf_lines(out), "FinCert")[("AuditWriteFailures", ())] == 1
    [logged] = [r for r in caplog.records if r.getMessage() == "audit entry not written"]
    assert (logged.levelname, logged.event, logged.fault) == ("WARNING", "connection_failed", "ClientError")
    code = api.last_sms_code(customer.phone)
    assert api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": code}).status == 201
