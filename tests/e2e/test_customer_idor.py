"""End to end, over HTTP: one customer cannot act on another's certificate, SAD or devices, and a
bank sees nothing of a certificate until the customer registers it there (타기관 등록) with the PIN.
A second bank is registered in the running stack the way `fincert-admin register-institution`
does it: fincert.domain.institutions against the stack's DynamoDB."""

from __future__ import annotations

import base64
import hashlib
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fincert.adapters.dynamodb.store import DynamoStore
from fincert.domain.institutions import register_institution

from tests.support import log_safety
from tests.support.customers import Customer, connected, outcome
from tests.support.people import PIN
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

HASH = base64.b64encode(hashlib.sha256(b"transfer 1,000,000 KRW").digest()).decode()


@pytest.fixture(scope="module")
def bank_b(stack: RunningStack) -> str:
    """A second institution's API key."""
    client = stack.dynamodb()
    store = DynamoStore(lambda: client, stack.table_name)
    _, api_key = register_institution(
        store, f"bank-b-{secrets.token_hex(3)}", "B은행", ["enroll", "connect"], ["https://bank-b.example"]
    )
    log_safety.remember_secret(api_key)
    return api_key


def device_key() -> str:
    der = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


def as_session(customer: Customer, token: str) -> Customer:
    """The same customer and credential, acting with another session token."""
    return Customer(
        customer.stack,
        identity=customer.identity,
        pin=customer.pin,
        credential_id=customer.credential_id,
        token=token,
        issued=customer.issued,
    )


def test_another_bank_sees_and_signs_nothing_until_the_customer_registers_it_there(stack, bank_b):
    at_a = connected(stack)
    session = Customer(stack, identity=at_a.identity).connect(api_key=bank_b)
    assert session["institution_registered"] is False
    at_b = as_session(at_a, session["session_token"])
    attempts_before = int(at_a.account_item()["pin_attempts"])

    listed = at_b.call("POST", "/csc/v1/credentials/list", {})
    assert listed.status_code == 200 and listed.json()["credentialIDs"] == []
    info = at_b.call("POST", "/csc/v1/credentials/info", {"credentialID": at_a.credential_id})
    assert outcome(info) == (404, "credential_not_found")
    authorized = at_b.authorize(pin=PIN, hash=[HASH])
    assert outcome(authorized) == (403, "institution_not_registered")
    assert "SAD" not in authorized.json()
    signed = at_b.sign_content("로그인", "cms_attached")
    assert outcome(signed) == (403, "institution_not_registered") and "signature" not in signed.json()
    assert outcome(at_b.call("GET", "/v1/devices")) == (403, "institution_not_registered")
    assert outcome(at_b.call("GET", "/v1/history")) == (403, "institution_not_registered")
    assert int(at_a.account_item()["pin_attempts"]) == attempts_before, "refused before any PIN slot"

    # A SAD bank A's session obtained is not bank B's to spend.
    sad_from_a = at_a.sad(1, hash=[HASH])
    assert outcome(at_b.sign_hash(sad_from_a, [HASH])) == (400, "sad_invalid")

    assert at_b.call("POST", "/v1/registrations", {"pin": PIN}).status_code == 204
    assert at_b.call("POST", "/csc/v1/credentials/list", {}).json()["credentialIDs"] == [at_a.credential_id]
    assert outcome(at_b.sign_hash(sad_from_a, [HASH])) == (400, "sad_invalid"), "still bank A's SAD"
    sad_from_b = at_b.sad(1, hash=[HASH])
    assert at_b.sign_hash(sad_from_b, [HASH]).status_code == 200
    assert at_a.sign_hash(sad_from_a, [HASH]).status_code == 200, "bank A's SAD, at bank A"


def test_one_customer_cannot_use_anothers_credential_sad_or_devices(stack):
    alice = connected(stack)
    mallory = connected(stack)
    device = alice.call("POST", "/v1/devices", {"name": "앨리스 폰", "public_key": device_key()})
    assert device.status_code == 201, device.text
    alice_device = device.json()["device_id"]
    alice_sad = alice.sad(1, hash=[HASH])
    alice_attempts = int(alice.account_item()["pin_attempts"])

    # Mallory's own session, naming Alice's credential, SAD and device.
    as_mallory = as_session(alice, mallory.token)
    info = as_mallory.call("POST", "/csc/v1/credentials/info", {"credentialID": alice.credential_id})
    assert outcome(info) == (404, "credential_not_found")
    authorized = as_mallory.authorize(pin=PIN, hash=[HASH])  # even with Alice's PIN
    assert outcome(authorized) == (404, "credential_not_found") and "SAD" not in authorized.json()
    assert outcome(as_mallory.sign_hash(alice_sad, [HASH])) == (400, "sad_invalid")
    assert outcome(mallory.call("DELETE", f"/v1/devices/{alice_device}")) == (404, "device_not_found")
    assert mallory.call("GET", "/v1/devices").json()["devices"] == []
    history = mallory.call("GET", "/v1/history?limit=100").json()["entries"]
    assert all(e.get("credential_id") in {None, mallory.credential_id} for e in history)

    # Alice's things are as they were: her device, her PIN count, her SAD (it still signs once).
    assert [d["device_id"] for d in alice.call("GET", "/v1/devices").json()["devices"]] == [alice_device]
    assert int(alice.account_item()["pin_attempts"]) == alice_attempts
    assert alice.sign_hash(alice_sad, [HASH]).status_code == 200


def test_an_institution_key_is_not_a_customer_session_and_an_ended_session_is_dead(stack, bank_b):
    customer = connected(stack)
    for key in (stack.api_key, bank_b):
        bank = as_session(customer, key)
        refused = (403, "customer_session_required")
        assert outcome(bank.call("POST", "/csc/v1/credentials/list", {})) == refused
        assert outcome(bank.call("GET", "/v1/history")) == refused
        assert outcome(bank.authorize(pin=PIN)) == refused

    assert customer.call("DELETE", "/v1/sessions/current").status_code == 204
    assert customer.call("POST", "/csc/v1/credentials/list", {}).status_code == 401
    assert customer.authorize(pin=PIN).status_code == 401


def test_another_bank_cannot_reset_the_pin_of_a_customer_not_registered_there(stack, bank_b):
    customer = connected(stack)
    log_safety.remember_secret("802468")
    started = stack.post("/v1/pin-resets", customer.identity, api_key=bank_b)
    assert started.status_code == 201, started.text  # same answer as for anyone (no enumeration)
    confirmed = stack.post(
        f"/v1/pin-resets/{started.json()['verification_id']}/confirm",
        {"sms_code": stack.sms_code(customer.phone), "new_pin": "802468"},
        api_key=bank_b,
    )
    assert outcome(confirmed) == (404, "certificate_not_found")
    assert customer.authorize(pin=PIN).status_code == 200, "the PIN is unchanged"
