"""The verify call judges a timestamped signature at its time-stamp (issue 14, item 3): a
certificate revoked after it still gives valid=true (certificate_status says revoked, now), one
revoked before it does not, and a token that does not match the signature or that our TSA did
not sign makes it invalid with stable reasons. The time-stamps come from our TSA over HTTP, as a
relying party (or the signing call) gets them."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fincert.adapters.dynamodb import keys
from fincert.crypto import tsp
from fincert.domain.status_records import SerialStatus

from tests.support.customers import connected, signature_of
from tests.support.table import typed_key
from tests.support.tsa import (
    TIMESTAMP_QUERY,
    read_reply,
    signature_value,
    timestamp_request,
    with_signature_timestamp,
    without_evidence,
)

CONTENT = "이체: 국민은행 123-456 → 신한은행 987-654, 1,000,000원"
VERIFY = "/v1/signatures/verify"


@pytest.fixture
def tsa(svc, ca, clock):
    record, _ = svc.ensure_timestamp_authority()
    return x509.load_der_x509_certificate(record.certificate_der)


def sign(customer, signature_format: str) -> dict:
    """A signature as the signing call returns it, less the evidence it carries (so that each
    test adds the time-stamp it is about; tests/integration/test_signature_evidence.py checks
    the signing call's own)."""
    response = customer.sign_contents([{"text": CONTENT}], [signature_format], "transfer")
    assert response.status == 201, response.body
    answer = response.json()
    signature = base64.b64decode(signature_of(answer))
    return {
        "signature": signature if signature_format == "raw" else without_evidence(signature),
        "format": signature_format,
        "certificate": x509.load_pem_x509_certificate(answer["certificate_pem"].encode()),
        "certificate_pem": answer["certificate_pem"],
    }


def token_over(api, value: bytes, *, cert_req: bool = True) -> bytes:
    request = timestamp_request(hashed_message=hashlib.sha256(value).digest(), cert_req=cert_req)
    reply = read_reply(
        api.post("/v1/timestamps", body=request, headers={"Content-Type": TIMESTAMP_QUERY}).body
    )
    assert reply.status == "granted"
    return reply.token.dump()


def verify(api, signed: dict, signature: bytes | None = None, **extra) -> dict:
    body = {
        "signature": base64.b64encode(signature or signed["signature"]).decode(),
        "format": signed["format"],
        "content": CONTENT,
    }
    if signed["format"] == "raw":
        body["certificate_pem"] = signed["certificate_pem"]
    response = api.post(VERIFY, body | extra)
    assert response.status == 200, response.body
    return response.json()


def stamped_cms(api, signed: dict, **kw) -> bytes:
    return with_signature_timestamp(
        signed["signature"], token_over(api, signature_value(signed["signature"]), **kw)
    )


def revoke(svc, signed: dict, at: datetime, reason: str = "keyCompromise") -> None:
    serial = signed["certificate"].serial_number
    assert svc.store.set_serial_status(serial, SerialStatus.REVOKED, at=at, reason=reason)


@pytest.mark.parametrize("signature_format", ["cms_attached", "cms_detached"])
def test_a_certificate_revoked_after_the_time_stamp_still_gives_valid(api, svc, clock, tsa, signature_format):
    signed = sign(connected(api), signature_format)
    stamped = stamped_cms(api, signed)
    signed_at = clock.at
    clock.at = signed_at + timedelta(days=1)  # Tuesday: the customer reports a lost phone
    revoke(svc, signed, clock.at)

    body = verify(api, signed, stamped)
    assert (body["valid"], body["reasons"]) == (True, [])
    assert body["certificate_status"] == "revoked", "the status is now's"
    assert datetime.fromisoformat(body["valid_at"]) == signed_at.replace(microsecond=0)
    assert body["timestamp_serial"] is not None
    # Without the time-stamp the same signature is judged now: invalid.
    plain = verify(api, signed)
    assert (plain["valid"], plain["reasons"], plain["timestamp_serial"]) == (
        False,
        ["certificate_revoked"],
        None,
    )
    assert plain["valid_at"] == plain["checked_at"]


def test_a_certificate_revoked_before_the_time_stamp_gives_invalid(api, svc, clock, tsa):
    signed = sign(connected(api), "cms_attached")
    revoke(svc, signed, clock.at)
    clock.at += timedelta(minutes=1)
    body = verify(api, signed, stamped_cms(api, signed))
    assert (body["valid"], body["reasons"]) == (False, ["certificate_revoked"])
    assert body["timestamp_serial"] is not None


def test_a_suspension_after_the_time_stamp_does_not_void_the_signature(api, svc, clock, tsa):
    signed = sign(connected(api), "cms_attached")
    stamped = stamped_cms(api, signed)
    clock.at += timedelta(hours=2)
    assert svc.store.set_serial_status(
        signed["certificate"].serial_number, SerialStatus.SUSPENDED, at=clock.at
    )
    body = verify(api, signed, stamped)
    assert (body["valid"], body["certificate_status"]) == (True, "suspended")


def test_a_raw_signature_is_judged_at_the_token_sent_beside_it(api, svc, clock, tsa):
    signed = sign(connected(api), "raw")
    token = base64.b64encode(token_over(api, signed["signature"])).decode()
    clock.at += timedelta(days=3)
    revoke(svc, signed, clock.at, "superseded")
    body = verify(api, signed, timestamp_token=token)
    assert (body["valid"], body["certificate_status"]) == (True, "revoked")
    assert verify(api, signed)["valid"] is False


def test_a_token_over_another_signature_gives_invalid(api, clock, tsa):
    customer = connected(api)
    signed, other = sign(customer, "cms_attached"), sign(customer, "raw")
    mismatched = with_signature_timestamp(signed["signature"], token_over(api, other["signature"]))
    body = verify(api, signed, mismatched)
    assert (body["valid"], body["signature_valid"], body["reasons"]) == (False, True, ["timestamp_mismatch"])
    assert body["timestamp_serial"] is None and body["valid_at"] == body["checked_at"]
    raw = verify(api, other, timestamp_token=base64.b64encode(token_over(api, signed["signature"])).decode())
    assert (raw["valid"], raw["reasons"]) == (False, ["timestamp_mismatch"])


def test_a_tampered_token_gives_invalid(api, clock, tsa):
    signed = sign(connected(api), "cms_attached")
    token = bytearray(token_over(api, signature_value(signed["signature"])))
    token[-5] ^= 0x01  # inside the TSA's signature value, the token's last field
    body = verify(api, signed, with_signature_timestamp(signed["signature"], bytes(token)))
    assert (body["valid"], body["reasons"]) == (False, ["timestamp_invalid"])


def test_a_token_from_another_tsa_is_not_trusted(api, svc, clock, tsa):
    signed = sign(connected(api), "cms_attached")
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some Other TSA")])
    outsider = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(clock.at - timedelta(days=1))
        .not_valid_after(clock.at + timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    query = tsp.parse_request(
        timestamp_request(hashed_message=hashlib.sha256(signature_value(signed["signature"])).digest())
    )
    token = tsp.build_token(
        key=key,
        tsa_certificate=outsider,
        query=query,
        policy_oid="1.2.3.4",
        serial_number=7,
        gen_time=clock.at,
    )
    body = verify(api, signed, with_signature_timestamp(signed["signature"], token))
    assert (body["valid"], body["reasons"]) == (False, ["timestamp_not_trusted"])


def test_a_token_without_the_tsa_certificate_is_checked_against_ours(api, svc, clock, tsa):
    signed = sign(connected(api), "cms_attached")
    stamped = stamped_cms(api, signed, cert_req=False)
    clock.at += timedelta(days=1)
    revoke(svc, signed, clock.at)
    assert verify(api, signed, stamped)["valid"] is True


def test_an_expired_certificate_stays_verifiable_while_its_serial_record_lasts(api, svc, clock, tsa):
    signed = sign(connected(api), "cms_detached")
    stamped = stamped_cms(api, signed)
    clock.at = signed["certificate"].not_valid_after_utc + timedelta(days=30)
    body = verify(api, signed, stamped)
    assert (body["valid"], body["certificate_status"]) == (True, "expired")
    # Once the TTL removes the record (at notAfter today), nothing says whether it was revoked
    # before the time-stamp: keeping serial records 5 years past notAfter closes this.
    svc.clients.dynamodb.delete_item(
        TableName=svc.settings.table_name, Key=typed_key(keys.serial(signed["certificate"].serial_number))
    )
    gone = verify(api, signed, stamped)
    assert (gone["valid"], gone["reasons"]) == (False, ["certificate_status_unavailable"])


def test_a_time_stamp_after_expiry_does_not_rescue_the_signature(api, clock, tsa, svc):
    signed = sign(connected(api), "cms_attached")
    not_after = signed["certificate"].not_valid_after_utc
    # The TSA's certificate outlives the subscriber's here: a token made after notAfter.
    if tsa.not_valid_after_utc <= not_after + timedelta(days=1):
        pytest.fail("the TSA certificate must outlive a subscriber certificate issued the same day")
    clock.at = not_after + timedelta(days=1)
    body = verify(api, signed, stamped_cms(api, signed))
    assert (body["valid"], body["reasons"]) == (False, ["certificate_expired"])


def test_a_cms_carrying_a_token_may_not_be_sent_another(api, clock, tsa):
    signed = sign(connected(api), "cms_attached")
    stamped = stamped_cms(api, signed)
    response = api.post(
        VERIFY,
        {
            "signature": base64.b64encode(stamped).decode(),
            "format": "cms_attached",
            "timestamp_token": base64.b64encode(token_over(api, signature_value(stamped))).decode(),
        },
    )
    assert response.status == 400
    assert response.json()["error"]["code"] == "timestamp_conflict"
    garbage = api.post(
        VERIFY, {"signature": base64.b64encode(signed["signature"]).decode(), "timestamp_token": "!!"}
    )
    assert (garbage.status, garbage.json()["error"]["code"]) == (400, "malformed_timestamp")
    junk = verify(api, signed, timestamp_token=base64.b64encode(b"\x30\x00").decode())
    assert (junk["valid"], junk["reasons"]) == (False, ["timestamp_malformed"])


def test_valid_at_is_utc(api, clock, tsa):
    signed = sign(connected(api), "cms_attached")
    body = verify(api, signed, stamped_cms(api, signed))
    assert datetime.fromisoformat(body["valid_at"]).utcoffset() == UTC.utcoffset(None)
