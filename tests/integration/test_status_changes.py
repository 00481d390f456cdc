"""Suspend (효력정지), restore (효력회복) and revoke through the API (issue 4 item 1): with the
customer's session + PIN, or after the institution re-verified the customer (SMS code). A change
shows in the very next OCSP answer (judged by openssl), and a suspended or revoked certificate
signs nothing; restore re-enables a suspended one only; every change is in the history."""

from __future__ import annotations

import base64
import hashlib

import boto3
import pytest
from fincert.adapters.dynamodb import keys
from fincert.admin import ensure_ocsp_responder
from fincert.wiring import services
from fincert_local.gateway import recorded_sms

from tests.support.customers import Customer, connected
from tests.support.in_process import REGION, Api
from tests.support.jobs import kst, run
from tests.support.ocsp import leaf_of, ocsp_request, openssl_ocsp_status
from tests.support.people import CUSTOMER

WRONG = "975313"


@pytest.fixture
def responder(ca, clock):
    record, _ = ensure_ocsp_responder(services())
    return record


def _error(response) -> str:
    body = response.json()
    return body["error"] if isinstance(body["error"], str) else body["error"]["code"]


def _table():
    return boto3.resource("dynamodb", region_name=REGION).Table(
        services().settings.table_name  # the template's table, as the functions see it
    )


def _account(customer: Customer) -> dict:
    return _table().get_item(Key=keys.account(customer.account_id).as_dict())["Item"]


def _ocsp(api: Api, tmp_path, ca, issued: dict) -> list[str]:
    """openssl's reading of the service's OCSP answer for this certificate, as stripped lines."""
    leaf = leaf_of(issued)
    response = api.request(
        "POST",
        "/pki/ocsp",
        body=ocsp_request(leaf, ca.issuing_certificate),
        headers={"Content-Type": "application/ocsp-request"},
    )
    assert response.status == 200
    return [line.strip() for line in openssl_ocsp_status(tmp_path, ca, leaf, response.body).splitlines()]


def _with_pin(customer: Customer, action: str, pin: str | None = None, **extra):
    body = {"action": action, "pin": pin or customer.pin} | extra
    return customer.call("POST", "/v1/certificate/status", body)


def _reverified(api: Api, customer: Customer, action: str, **extra):
    """The institution re-verifies the customer (name + phone + birth date, SMS code), then acts."""
    started = api.post("/v1/status-changes", customer.identity)
    assert started.status == 201, started.body
    code = api.last_sms_code(customer.phone)
    return api.post(
        f"/v1/status-changes/{started.json()['verification_id']}/confirm",
        {"sms_code": code, "action": action} | extra,
    )


def _sign(customer: Customer):
    return customer.sign_contents([{"text": "로그인"}], ["cms_attached"], "login")


def _history(customer: Customer) -> list[dict]:
    return customer.call("GET", "/v1/history").json()["entries"]


@pytest.fixture
def customer(api) -> Customer:
    return connected(api)


@pytest.fixture
def issued(customer) -> dict:
    response = customer.call("GET", "/v1/certificate")
    assert response.status == 200, response.body
    return response.json()


def test_the_customer_sees_their_certificate_as_valid(customer, issued):
    assert issued["credential_id"] == customer.credential_id
    assert issued["status"] == "valid"
    assert int(issued["serial_number"], 16) > 0


def test_a_suspension_with_the_pin_stops_signing_and_ocsp_says_certificate_hold(
    api, customer, ca, responder, tmp_path
):
    certificate_pem = _sign(customer).json()["certificate_pem"]
    sad = customer.authorize(1, [base64.b64encode(hashlib.sha256(b"x").digest()).decode()]).json()["SAD"]

    response = _with_pin(customer, "suspend")
    assert response.status == 200, response.body
    assert response.json()["status"] == "suspended"
    assert customer.call("GET", "/v1/certificate").json()["status"] == "suspended"

    lines = _ocsp(api, tmp_path, ca, {"certificate_pem": certificate_pem})
    assert lines[0] == "leaf.pem: revoked" and "Reason: certificateHold" in lines

    attempts = int(_account(customer)["pin_attempts"])
    refused = [_sign(customer), customer.authorize()]
    assert [(r.status, _error(r)) for r in refused] == [(403, "credential_not_active")] * 2
    assert int(_account(customer)["pin_attempts"]) == attempts, "no PIN slot for what cannot sign"
    # A SAD issued before the suspension signs nothing either.
    signed = customer.sign_hash(sad, [base64.b64encode(hashlib.sha256(b"x").digest()).decode()])
    assert (signed.status, _error(signed)) == (403, "credential_not_active")
    info = customer.call("POST", "/csc/v1/credentials/info", {"credentialID": customer.credential_id})
    assert info.json()["cert"]["status"] == "suspended" and info.json()["key"]["status"] == "disabled"

    [change] = [e for e in _history(customer) if e["event"] == "status_changed"]
    assert change["detail"] == {
        "action": "suspend",
        "reason": "certificateHold",
        "serial": format(leaf_of({"certificate_pem": certificate_pem}).serial_number, "x"),
        "via": "pin",
    }
    assert "정지" in recorded_sms(customer.phone, REGION)[-1]


def test_restore_takes_re_verification_and_then_signs_again(api, customer, issued, ca, responder, tmp_path):
    assert _with_pin(customer, "suspend").status == 200
    by_pin = _with_pin(customer, "restore")
    assert (by_pin.status, _error(by_pin)) == (403, "reverification_required")
    assert customer.call("GET", "/v1/certificate").json()["status"] == "suspended"

    restored = _reverified(api, customer, "restore")
    assert restored.status == 200, restored.body
    assert restored.json()["status"] == "valid"
    certificate_pem = _sign(customer).json()["certificate_pem"]
    assert _ocsp(api, tmp_path, ca, {"certificate_pem": certificate_pem})[0] == "leaf.pem: good"
    assert customer.authorize().status == 200
    assert "회복" in recorded_sms(customer.phone, REGION)[-1]
    events = [(e["event"], e["detail"].get("action"), e["detail"].get("via")) for e in _history(customer)]
    assert ("status_changed", "restore", "reverification") in events


def test_restore_re_enables_a_suspended_certificate_only(api, customer):
    active = _reverified(api, customer, "restore")
    assert (active.status, _error(active)) == (409, "credential_not_suspended")
    assert _with_pin(customer, "revoke").status == 200
    revoked = _reverified(api, customer, "restore")
    assert (revoked.status, _error(revoked)) == (404, "certificate_not_found")


def test_a_revocation_keeps_its_reason_through_a_reissue(api, customer, issued, ca, responder, tmp_path):
    certificate_pem = _sign(customer).json()["certificate_pem"]
    response = _with_pin(customer, "revoke", reason="keyCompromise")
    assert response.status == 200, response.body
    assert response.json()["status"] == "revoked"

    lines = _ocsp(api, tmp_path, ca, {"certificate_pem": certificate_pem})
    assert lines[0] == "leaf.pem: revoked" and "Reason: keyCompromise" in lines
    gone = customer.call("GET", "/v1/certificate")
    assert (gone.status, _error(gone)) == (404, "certificate_not_found")
    assert _error(_sign(customer)) == "certificate_not_found"
    assert "active_credential_id" not in _account(customer), "the customer reissues"

    customer.issue()  # the customer reissues: the new certificate is valid, the old stays as revoked
    assert customer.call("GET", "/v1/certificate").json()["status"] == "valid"
    lines = _ocsp(api, tmp_path, ca, {"certificate_pem": certificate_pem})
    assert "Reason: keyCompromise" in lines, "a reissue must not rewrite it as superseded"
    assert "폐기" in recorded_sms(customer.phone, REGION)[-2]


def test_a_lost_phone_suspended_then_revoked_by_re_verification(api, customer, ca, responder, tmp_path):
    certificate_pem = _sign(customer).json()["certificate_pem"]
    assert _reverified(api, customer, "suspend").json()["status"] == "suspended"
    revoked = _reverified(api, customer, "revoke", reason="cessationOfOperation")
    assert revoked.status == 200, revoked.body
    lines = _ocsp(api, tmp_path, ca, {"certificate_pem": certificate_pem})
    assert lines[0] == "leaf.pem: revoked" and "Reason: cessationOfOperation" in lines


def test_a_wrong_pin_changes_nothing_and_counts(customer):
    response = _with_pin(customer, "suspend", pin=WRONG)
    assert (response.status, _error(response)) == (400, "pin_invalid")
    assert int(_account(customer)["pin_attempts"]) - int(_account(customer)["pin_cleared"]) == 1
    assert customer.call("GET", "/v1/certificate").json()["status"] == "valid"
    assert _sign(customer).status == 201


def test_an_impossible_change_costs_no_pin_attempt(customer):
    assert _with_pin(customer, "suspend").status == 200
    attempts = int(_account(customer)["pin_attempts"])
    again = _with_pin(customer, "suspend", pin=WRONG)
    assert (again.status, _error(again)) == (409, "credential_not_active")
    assert int(_account(customer)["pin_attempts"]) == attempts


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"action": "suspend", "reason": "keyCompromise"}, 400, "reason_not_applicable"),
        ({"action": "revoke", "reason": "certificateHold"}, 422, "validation_failed"),
        ({"action": "revoke", "reason": "removeFromCRL"}, 422, "validation_failed"),
        ({"action": "pause"}, 422, "validation_failed"),
        ({"action": "suspend", "pin": None}, 422, "validation_failed"),
        ({"action": "suspend", "extra": 1}, 422, "validation_failed"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(customer, aws_calls, body, status, code):
    request = {"pin": customer.pin} | body
    if request["pin"] is None:
        del request["pin"]
    aws_calls.clear()
    response = customer.call("POST", "/v1/certificate/status", request)
    assert (response.status, _error(response)) == (status, code), response.body
    reads = ("dynamodb.GetItem", "dynamodb.BatchGetItem", "dynamodb.Query")  # the authorizer's is a batch
    assert not [c for c in aws_calls.calls if c not in reads]
    assert customer.call("GET", "/v1/certificate").json()["status"] == "valid"


def test_each_path_takes_its_own_kind_of_caller(api, customer):
    by_bank = api.post("/v1/certificate/status", {"action": "suspend", "pin": customer.pin})
    assert (by_bank.status, _error(by_bank)) == (403, "customer_session_required")
    by_customer = customer.call("POST", "/v1/status-changes", customer.identity)
    assert (by_customer.status, _error(by_customer)) == (403, "institution_key_required")


@pytest.mark.parametrize("state", ["valid", "suspended"])
def test_another_bank_sees_and_changes_nothing(api, gateway, other_bank, customer, state):
    if state == "suspended":
        assert _with_pin(customer, "suspend").status == 200
    other = Api(gateway, other_bank["api_key"])
    response = _reverified(other, customer, "revoke")
    assert (response.status, _error(response)) == (404, "certificate_not_found")

    stranger = Customer(other, customer.identity, credential_id=customer.credential_id)
    stranger.connect()  # connected through the other bank, which is not registered
    # The same refusal whatever the certificate's state: nothing of it leaks to this bank.
    for attempt in (
        stranger.call("GET", "/v1/certificate"),
        _with_pin(stranger, "suspend"),
        _with_pin(stranger, "revoke"),
        _sign(stranger),
        stranger.authorize(),
    ):
        assert attempt.status == 403, attempt.body
        assert _error(attempt) in {"institution_not_registered", "credential_not_found"}, attempt.body
    assert customer.call("GET", "/v1/certificate").json()["status"] == state


def test_a_used_verification_cannot_change_the_status_twice(api, customer):
    started = api.post("/v1/status-changes", customer.identity).json()
    code = api.last_sms_code(customer.phone)
    path = f"/v1/status-changes/{started['verification_id']}/confirm"
    assert api.post(path, {"sms_code": code, "action": "suspend"}).status == 200
    again = api.post(path, {"sms_code": code, "action": "revoke"})
    assert (again.status, _error(again)) == (410, "verification_used")
    assert customer.call("GET", "/v1/certificate").json()["status"] == "suspended"


def test_a_pin_reset_verification_cannot_change_the_status(api, customer):
    started = api.post("/v1/pin-resets", customer.identity).json()
    code = api.last_sms_code(customer.phone)
    response = api.post(
        f"/v1/status-changes/{started['verification_id']}/confirm", {"sms_code": code, "action": "revoke"}
    )
    assert (response.status, _error(response)) == (404, "verification_not_found")


STATUS_CHANGE_CALLS = [
    "dynamodb.GetItem",  # account
    "dynamodb.GetItem",  # credential
    "dynamodb.UpdateItem",  # PIN slot
    "kms.VerifyMac",
    "dynamodb.TransactWriteItems",
]


@pytest.mark.parametrize("failing", range(len(STATUS_CHANGE_CALLS)))
def test_a_fault_leaves_nothing_half_done_and_the_retry_works(customer, aws_calls, failing):
    aws_calls.clear()
    aws_calls.fail_call(1 + failing + 1)  # after the authorizer's session lookup
    response = _with_pin(customer, "suspend")
    assert response.status == 503, response.body
    assert customer.call("GET", "/v1/certificate").json()["status"] == "valid"
    assert _sign(customer).status == 201, "a fault must not leave the certificate half-suspended"
    retry = _with_pin(customer, "suspend")
    assert retry.status == 200, retry.body
    assert [e["event"] for e in _history(customer)].count("status_changed") == 1


def test_the_status_change_makes_the_calls_it_names(customer, aws_calls):
    aws_calls.clear()
    assert _with_pin(customer, "suspend").status == 200
    assert aws_calls.calls[1:] == [*STATUS_CHANGE_CALLS, "kms.Decrypt", "sns.Publish"]


def test_a_suspended_certificate_is_not_renewed_until_restored(api, clock, gateway):
    clock.at = kst(2026, 11, 25, 10, 0)
    customer = Customer(api, CUSTOMER)
    customer.issue(auto_renew=True)
    customer.connect()
    assert _with_pin(customer, "suspend").status == 200

    clock.at = kst(2029, 10, 26, 0, 30)  # the first day of its renewal window
    first = run(gateway, "renewal")
    assert first["planned"]["by_kind"] == {"renew": 1} and first["failed"] == []
    customer.connect()
    assert customer.call("GET", "/v1/certificate").json()["credential_id"] == customer.credential_id

    assert _reverified(api, customer, "restore").status == 200
    assert run(gateway, "renewal")["planned"]["by_kind"] == {"renew": 1}  # still due: renewed now
    renewed = customer.call("GET", "/v1/certificate").json()
    assert renewed["credential_id"] != customer.credential_id and renewed["status"] == "valid"


def _suspend_in_the_table(customer: Customer) -> None:
    """What a suspension committed by another request leaves behind (its transaction's items)."""
    account_id = customer.account_id
    _table().update_item(
        Key=keys.account(account_id).as_dict(),
        UpdateExpression="SET credential_suspended = :t",
        ExpressionAttributeValues={":t": True},
    )
    _table().update_item(
        Key=keys.credential(account_id, customer.credential_id).as_dict(),
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "suspended"},
    )


@pytest.fixture
def suspended_while_signing(monkeypatch):
    """Makes a suspension commit after the signing request read the credential, while it signs."""
    from fincert.domain.signing import SigningService

    def arm(customer: Customer) -> None:
        original = SigningService._private_key

        def key_then_suspend(self, credential):
            key = original(self, credential)
            _suspend_in_the_table(customer)
            return key

        monkeypatch.setattr(SigningService, "_private_key", key_then_suspend)

    return arm


def test_a_suspension_committing_during_a_signature_wins(customer, suspended_while_signing):
    suspended_while_signing(customer)
    response = _sign(customer)
    assert (response.status, _error(response)) == (403, "credential_not_active"), response.body
    assert "signature" not in response.json()
    account = _account(customer)
    assert int(account["pin_attempts"]) == int(account["pin_cleared"]), "the right PIN is not a failure"
    assert "signed" not in [e["event"] for e in _history(customer)]


def test_a_suspension_committing_during_sign_hash_wins_and_keeps_the_sad(customer, suspended_while_signing):
    digest = base64.b64encode(hashlib.sha256(b"transfer").digest()).decode()
    sad = customer.authorize(1, [digest]).json()["SAD"]
    suspended_while_signing(customer)
    response = customer.sign_hash(sad, [digest])
    assert (response.status, _error(response)) == (403, "credential_not_active"), response.body
    assert "signatures" not in response.json()
    assert "signed" not in [e["event"] for e in _history(customer)]


def test_a_right_pin_on_an_expired_certificate_is_not_counted_as_wrong(customer):
    account_id = customer.account_id
    _table().update_item(
        Key=keys.credential(account_id, customer.credential_id).as_dict(),
        UpdateExpression="SET not_after = :past",
        ExpressionAttributeValues={":past": "2020-01-01T00:00:00Z"},
    )
    for _ in range(6):  # more than the lock: none of them may count
        response = _sign(customer)
        assert (response.status, _error(response)) == (410, "credential_expired"), response.body
    account = _account(customer)
    assert int(account["pin_attempts"]) == int(account["pin_cleared"])


def test_a_sad_from_before_a_suspension_does_not_sign_after_the_restore(api, customer):
    digest = base64.b64encode(hashlib.sha256(b"before").digest()).decode()
    old_sad = customer.authorize(1, [digest]).json()["SAD"]
    assert _with_pin(customer, "suspend").status == 200
    assert _reverified(api, customer, "restore").status == 200

    refused = customer.sign_hash(old_sad, [digest])
    assert (refused.status, _error(refused)) == (400, "sad_invalid"), refused.body
    fresh = customer.authorize(1, [digest]).json()["SAD"]
    assert customer.sign_hash(fresh, [digest]).status == 200
