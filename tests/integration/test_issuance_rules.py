"""What issuance guarantees beyond the happy path: key custody, one certificate per person,
idempotent retries, the SMS code's limits, and what is (not) stored in clear."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from cryptography import x509
from fincert.adapters.dynamodb import keys
from fincert.crypto.keys import private_key_from_der, public_key_der
from fincert.domain.enrollment import subscriber_key_context
from fincert.errors import DecryptionRefused

from tests.support.customers import enroll, issue
from tests.support.in_process import REGION
from tests.support.people import ENROLLMENT, PHONE, PIN
from tests.support.table import (
    credential_in,
    is_account,
    is_credential,
    is_enrollment,
    is_presigned,
    serials_in,
    table_items,
    typed_key,
)


def credential_item(svc, credential_id: str) -> dict:
    return credential_in(table_items(svc), credential_id)


def test_wrapped_key_matches_the_certificate_and_decrypts_only_in_its_own_context(api, svc):
    first = issue(api)
    second = issue(api, ENROLLMENT | {"phone": "010-9999-8888"})
    item = credential_item(svc, first["credential_id"])
    account_id = keys.account_id_of(item["pk"])
    wrapped = bytes(item["wrapped_private_key"].value)

    plaintext = svc.kms.decrypt(
        svc.settings.key_wrap_key_id, wrapped, subscriber_key_context(account_id, first["credential_id"])
    )
    cert = x509.load_pem_x509_certificate(first["certificate_pem"].encode())
    assert public_key_der(private_key_from_der(plaintext)) == public_key_der(cert.public_key())

    # The same ciphertext moved onto the other customer's record must not decrypt there.
    other = credential_item(svc, second["credential_id"])
    with pytest.raises(DecryptionRefused):
        svc.kms.decrypt(
            svc.settings.key_wrap_key_id,
            wrapped,
            subscriber_key_context(keys.account_id_of(other["pk"]), second["credential_id"]),
        )
    with pytest.raises(DecryptionRefused):
        svc.kms.decrypt(
            svc.settings.key_wrap_key_id, wrapped, subscriber_key_context(account_id, second["credential_id"])
        )


def test_no_personal_data_or_pin_is_stored_in_clear(api, svc):
    issued = issue(api)
    cert_der = x509.load_pem_x509_certificate(issued["certificate_pem"].encode()).tbs_certificate_bytes
    forbidden = [
        "홍길동",
        "+821012345678",
        "821012345678",
        "01012345678",
        "010-1234-5678",
        "19900101",
        "900101",
        PIN,
    ]
    for item in table_items(svc):
        for name, value in item.items():
            if name == "certificate":
                continue  # the certificate names its holder by design
            raw = bytes(value.value) if hasattr(value, "value") else str(value).encode()
            for secret in forbidden:
                assert secret.encode() not in raw, f"{secret!r} in clear in {item['pk']}/{item['sk']}.{name}"
                assert secret.encode().hex().encode() not in raw
    assert cert_der  # the certificate itself is the one place the name appears


def test_pin_is_stored_only_as_a_versioned_kms_hmac_verifier(api, svc):
    issue(api)
    account = next(i for i in table_items(svc) if is_account(i))
    assert account["pin_verifier"].startswith("v1:")
    assert PIN not in account["pin_verifier"]
    assert int(account["pin_attempts"]) == int(account["pin_cleared"]) == 0


def test_reissue_revokes_the_previous_certificate_in_the_same_step(api, svc):
    first = issue(api)
    second = issue(api, pin="246813")
    items = table_items(svc)
    old = credential_in(items, first["credential_id"])
    new = credential_in(items, second["credential_id"])
    assert (old["status"], old["revocation_reason"]) == ("revoked", "superseded")
    assert new["status"] == "active"
    accounts = [i for i in items if is_account(i)]
    assert len(accounts) == 1, "one person, one account"
    assert accounts[0]["active_credential_id"] == second["credential_id"]
    serials = serials_in(items)
    assert serials[int(first["serial_number"], 16)]["status"] == "revoked"
    assert serials[int(second["serial_number"], 16)]["status"] == "issued"
    assert not [i for i in items if is_presigned(i)], "no certificate left unstored"


def test_reissue_through_another_institution_also_replaces_the_certificate(api, other_bank, svc):
    first = issue(api)
    other = type(api)(api.gateway, other_bank["api_key"])
    second = issue(other, pin="246813")
    items = table_items(svc)
    assert credential_in(items, first["credential_id"])["status"] == "revoked"
    assert next(i for i in items if is_account(i))["active_credential_id"] == second["credential_id"]


def test_retried_confirm_returns_the_same_certificate(api, svc):
    enrollment_id = enroll(api)
    body = {"sms_code": api.last_sms_code(PHONE), "pin": PIN}
    first = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
    again = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
    assert first.status == again.status == 201
    assert again.json()["certificate_pem"] == first.json()["certificate_pem"]
    assert len([i for i in table_items(svc) if is_credential(i)]) == 1


def test_retry_with_a_different_body_is_a_conflict(api):
    enrollment_id = enroll(api)
    code = api.last_sms_code(PHONE)
    assert api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN}).status == 201
    changed = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": "246813"})
    assert changed.status == 409
    assert changed.json()["error"]["code"] == "enrollment_confirmed"


def test_wrong_codes_count_down_then_lock_the_enrollment(api, svc):
    enrollment_id = enroll(api)
    right = api.last_sms_code(PHONE)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for remaining in (4, 3, 2, 1, 0):
        response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": wrong, "pin": PIN})
        assert response.status == 400
        assert response.json()["error"] == {
            "code": "sms_code_invalid",
            "message": "the SMS code is wrong",
            "details": {"remaining_attempts": remaining},
        }
    locked = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": right, "pin": PIN})
    assert locked.status == 410
    assert locked.json()["error"]["code"] == "enrollment_locked"
    assert not [i for i in table_items(svc) if is_credential(i)]


def test_a_right_code_after_wrong_ones_still_issues(api):
    enrollment_id = enroll(api)
    right = api.last_sms_code(PHONE)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": wrong, "pin": PIN})
    assert api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": right, "pin": PIN}).status == 201


def test_expired_enrollment_is_gone(api, clock):
    from datetime import timedelta

    enrollment_id = enroll(api)
    code = api.last_sms_code(PHONE)
    clock.at += timedelta(minutes=5, seconds=1)
    response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN})
    assert response.status == 410
    assert response.json()["error"]["code"] == "enrollment_expired"


def test_weak_pin_does_not_use_up_an_attempt(api, svc):
    enrollment_id = enroll(api)
    code = api.last_sms_code(PHONE)
    for pin, rule in [
        ("111111", "pin_repeated_digits"),
        ("123456", "pin_sequential"),
        ("900101", "pin_birth_date"),
    ]:
        response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": pin})
        assert response.status == 400
        assert response.json()["error"]["code"] == rule
    enrollment = next(i for i in table_items(svc) if is_enrollment(i))
    assert int(enrollment["attempts"]) == 0
    assert api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN}).status == 201


def test_sms_sends_are_rate_limited_per_phone(api, svc, monkeypatch):
    for _ in range(svc.settings.sms_per_phone_per_hour):
        enroll(api)
    sent_before = len(table_items(svc))
    refused = api.post("/v1/enrollments", ENROLLMENT)
    assert refused.status == 429
    assert refused.json()["error"]["code"] == "sms_rate_limited"
    assert int(refused.header("Retry-After")) > 0
    assert len(table_items(svc)) == sent_before, "a refused request writes nothing"


def test_sms_sends_are_rate_limited_per_institution(api, monkeypatch):
    from fincert.settings import Settings
    from fincert.wiring import Services, services, use_services

    monkeypatch.setenv("SMS_PER_INSTITUTION_PER_HOUR", "2")
    use_services(Services(Settings.from_env(), clients=services().clients))
    enroll(api)
    enroll(api, ENROLLMENT | {"phone": "010-2000-0000"})
    refused = api.post("/v1/enrollments", ENROLLMENT | {"phone": "010-3000-0000"})
    assert refused.status == 429
    assert refused.json()["error"]["details"] == {"limit": "sms-institution"}


def test_reissue_works_after_the_old_serial_record_expired(api, svc):
    first = issue(api)
    # DynamoDB's TTL deletes a serial record at its certificate's notAfter.
    boto3.client("dynamodb", region_name=REGION).delete_item(
        TableName=svc.settings.table_name,
        Key=typed_key(keys.serial(int(first["serial_number"], 16))),
    )
    second = issue(api, pin="246813")
    items = table_items(svc)
    assert next(i for i in items if is_account(i))["active_credential_id"] == second["credential_id"]
    old = serials_in(items)[int(first["serial_number"], 16)]
    assert old["status"] == "revoked"
    assert int(old["expires_at"]) <= int(datetime.now(UTC).timestamp()) + 1, "expires again at once"


def test_the_certificate_shows_the_name_with_its_spaces(api):
    issued = issue(api, ENROLLMENT | {"name": "Kim  Min Su", "phone": "010-4444-5555"})
    cert = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    common_name = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert common_name.startswith("Kim Min Su(")
