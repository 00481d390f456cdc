"""The verify call: a relying party's back end sends what `POST /v1/signatures` gave it and learns
whether the signature holds, chains to our CA and comes from a certificate that is good now.
An invalid signature is a 200 with valid=false and reason codes; only input that cannot be
judged is a 4xx, and nothing is written either way."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from fincert.adapters.dynamodb import keys
from fincert.crypto.x509_profile import build_ocsp_responder_certificate
from fincert.domain.status_records import SerialStatus

from tests.support.customers import connected, signature_of
from tests.support.table import typed_key
from tests.support.tsa import without_evidence
from tests.support.verifiers import openssl_cms_verify

CONTENT = "로그인: 국민은행 인터넷뱅킹 2024-05-01 09:00:00"
VERIFY = "/v1/signatures/verify"
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def sign(customer, signature_format: str = "cms_attached", content: str = CONTENT) -> dict:
    """What a bank keeps of one signature: the signature, its format and the certificate. Without
    the time-stamp and OCSP answer a CMS carries, so that it is judged now, as these tests are
    about (judged at its time-stamp: test_verify_at_signing_time, test_signature_evidence)."""
    response = customer.sign_contents([{"text": content}], [signature_format], "login")
    assert response.status == 201, response.body
    answer = response.json()
    signature = signature_of(answer)
    if signature_format != "raw":
        signature = base64.b64encode(without_evidence(base64.b64decode(signature))).decode()
    return {
        "signature": signature,
        "format": signature_format,
        "certificate_pem": answer["certificate_pem"],
        "chain_pem": answer["chain_pem"],
    }


def verify(api, signed: dict, **overrides):
    body = {"signature": signed["signature"], "format": signed["format"]}
    if signed["format"] != "cms_attached" and not {"content_base64", "content_sha256"} & set(overrides):
        body["content"] = CONTENT
    if signed["format"] == "raw":
        body["certificate_pem"] = signed["certificate_pem"]
    body |= overrides
    return api.post(VERIFY, {k: v for k, v in body.items() if v is not None})


def verdict(response) -> dict:
    assert response.status == 200, response.body
    return response.json()


def serial_of(signed: dict) -> int:
    return x509.load_pem_x509_certificate(signed["certificate_pem"].encode()).serial_number


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def with_flipped_signature(der: bytes) -> bytes:
    value = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
    flipped = bytes([value[0] ^ 0x01]) + value[1:]
    assert der.count(value) == 1
    return der.replace(value, flipped)


def foreign_signer(
    key_algorithm: str = "RSA_2048", issuer: x509.Name | None = None
) -> tuple[x509.Certificate, object]:
    """A key and certificate that are not from this CA: self-signed, or claiming `issuer`'s name
    while signed by their own key (a forged issuer)."""
    key = (
        rsa.generate_private_key(65537, 2048)
        if key_algorithm == "RSA_2048"
        else ec.generate_private_key(ec.SECP256R1())
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "홍길동 outsider")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def foreign_cms(certificate, key, content: str = CONTENT, *, detached: bool = False) -> bytes:
    options = [pkcs7.PKCS7Options.Binary] + ([pkcs7.PKCS7Options.DetachedSignature] if detached else [])
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content.encode())
        .add_signer(certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, options)
    )


# --- valid signatures --------------------------------------------------------------------------


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
@pytest.mark.parametrize("signature_format", ["cms_attached", "cms_detached", "raw"])
def test_a_fresh_signature_is_valid(api, aws_calls, key_algorithm, signature_format):
    customer = connected(api, key_algorithm=key_algorithm)
    signed = sign(customer, signature_format)
    aws_calls.clear()
    body = verdict(verify(api, signed))
    assert body["reasons"] == []
    assert (body["valid"], body["signature_valid"], body["chain_valid"]) == (True, True, True)
    assert body["certificate_status"] == "good"
    certificate = x509.load_pem_x509_certificate(signed["certificate_pem"].encode())
    assert body["serial"] == format(certificate.serial_number, "x")
    assert datetime.fromisoformat(body["not_after"]) == certificate.not_valid_after_utc
    assert (body["signing_time"] is None) == (signature_format == "raw")
    assert body["revoked_at"] is None and body["revocation_reason"] is None
    # Read-only: the serial's status, never a write, never KMS (beyond the gateway's authorizer).
    assert not [c for c in aws_calls.calls if c.startswith("kms.") or c.endswith(WRITES)]
    assert "dynamodb.GetItem" in aws_calls.calls


def test_attached_content_may_be_given_and_must_match(api):
    customer = connected(api)
    signed = sign(customer, "cms_attached")
    assert verdict(verify(api, signed, content=CONTENT))["valid"] is True
    body = verdict(verify(api, signed, content=CONTENT + " "))
    assert body["valid"] is False
    assert body["reasons"] == ["content_mismatch"]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
@pytest.mark.parametrize("signature_format", ["cms_attached", "cms_detached", "raw"])
def test_the_content_may_be_given_as_bytes_or_as_its_hash(api, key_algorithm, signature_format):
    """content, content_base64 and content_sha256 say the same thing: a detached CMS is checked
    through its messageDigest attribute and a raw signature over the digest, so the hash is
    enough for both; an attached CMS compares the content it carries."""
    customer = connected(api, key_algorithm=key_algorithm)
    signed = sign(customer, signature_format)
    data = CONTENT.encode()
    ways = {
        "content_base64": b64(data),
        "content_sha256": sha256_hex(data),
        "content_sha256 as base64": b64(hashlib.sha256(data).digest()),
    }
    for way, value in ways.items():
        body = verdict(verify(api, signed, **{way.split(" ")[0]: value}))
        assert (body["valid"], body["reasons"]) == (True, []), way
    other = "계좌이체: 100,000,000원".encode()
    for field, value in {"content_base64": b64(other), "content_sha256": sha256_hex(other)}.items():
        body = verdict(verify(api, signed, **{field: value}))
        expected = {
            "cms_attached": "content_mismatch",
            "cms_detached": "message_digest_mismatch",
            "raw": "signature_invalid",
        }[signature_format]
        assert (body["valid"], body["reasons"]) == (False, [expected]), field


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
def test_signatures_of_bytes_and_of_hashes_verify(api, key_algorithm):
    customer = connected(api, key_algorithm=key_algorithm)
    pdf = b"%PDF-1.7\n\x00\xff binary"
    contents = [{"base64": b64(pdf), "name": "a.pdf"}, {"sha256": sha256_hex(pdf)}]
    response = customer.sign_contents(contents, ["cms_detached", "raw"], "contract")
    assert response.status == 201, response.body
    answer = response.json()
    for index in (0, 1):
        for signature_format in ("cms_detached", "raw"):
            signature = signature_of(answer, index, signature_format)
            signed = {
                "signature": signature,
                "format": signature_format,
                "certificate_pem": answer["certificate_pem"],
            }
            for field, value in {"content_base64": b64(pdf), "content_sha256": sha256_hex(pdf)}.items():
                body = verdict(verify(api, signed, **{field: value}))
                assert (body["valid"], body["reasons"]) == (True, []), (index, signature_format, field)


# --- invalid signatures: an answer, not an error ----------------------------------------------


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
@pytest.mark.parametrize("signature_format", ["cms_detached", "raw"])
def test_other_content_is_not_valid(api, key_algorithm, signature_format):
    customer = connected(api, key_algorithm=key_algorithm)
    signed = sign(customer, signature_format)
    body = verdict(verify(api, signed, content="계좌이체: 100,000,000원"))
    assert body["valid"] is False and body["signature_valid"] is False
    assert body["chain_valid"] is True and body["certificate_status"] == "good"
    expected = "signature_invalid" if signature_format == "raw" else "message_digest_mismatch"
    assert body["reasons"] == [expected]


def test_content_altered_inside_attached_cms_is_not_valid(api):
    customer = connected(api)
    signed = sign(customer, "cms_attached", content="transfer 10,000 KRW")
    der = base64.b64decode(signed["signature"])
    assert der.count(b"10,000") == 1
    body = verdict(api.post(VERIFY, {"signature": b64(der.replace(b"10,000", b"90,000"))}))
    assert body["valid"] is False
    assert body["reasons"] == ["message_digest_mismatch"]


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
@pytest.mark.parametrize("signature_format", ["cms_attached", "cms_detached"])
def test_a_flipped_signature_bit_is_not_valid(api, key_algorithm, signature_format):
    customer = connected(api, key_algorithm=key_algorithm)
    signed = sign(customer, signature_format)
    tampered = b64(with_flipped_signature(base64.b64decode(signed["signature"])))
    body = verdict(verify(api, signed, signature=tampered))
    assert (body["valid"], body["signature_valid"], body["chain_valid"]) == (False, False, True)
    assert body["reasons"] == ["signature_invalid"]


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
def test_a_flipped_raw_signature_is_not_valid(api, key_algorithm):
    customer = connected(api, key_algorithm=key_algorithm)
    signed = sign(customer, "raw")
    raw = bytearray(base64.b64decode(signed["signature"]))
    raw[-1] ^= 0x01
    body = verdict(verify(api, signed, signature=b64(bytes(raw))))
    assert body["valid"] is False and body["reasons"] == ["signature_invalid"]


def test_a_raw_signature_checked_against_another_certificate_is_not_valid(api):
    customer = connected(api)
    signed = sign(customer, "raw")
    customer.issue()  # a new key and certificate, good now; the old one is superseded
    customer.connect()
    newer = sign(customer, "raw")
    body = verdict(verify(api, signed, certificate_pem=newer["certificate_pem"]))
    assert body["valid"] is False and body["reasons"] == ["signature_invalid"]
    assert body["serial"] == format(serial_of(newer), "x")


# --- the certificate's status ------------------------------------------------------------------


def test_a_signature_by_a_superseded_certificate_is_not_valid(api):
    customer = connected(api)
    signed = sign(customer, "cms_detached")
    assert verdict(verify(api, signed))["valid"] is True
    customer.issue()  # reissue: one certificate per person, the old one is revoked as superseded
    body = verdict(verify(api, signed))
    assert (body["valid"], body["signature_valid"], body["chain_valid"]) == (False, True, True)
    assert body["certificate_status"] == "revoked"
    assert body["revocation_reason"] == "superseded"
    assert body["revoked_at"] is not None
    assert body["reasons"] == ["certificate_revoked"]


def test_suspended_then_restored(api, svc):
    customer = connected(api, key_algorithm="EC_P256")
    signed = sign(customer, "cms_attached")
    serial = serial_of(signed)
    assert svc.store.set_serial_status(serial, SerialStatus.SUSPENDED, at=svc.clock.now())
    body = verdict(verify(api, signed))
    assert (body["valid"], body["certificate_status"]) == (False, "suspended")
    assert body["revocation_reason"] == "certificateHold"
    assert body["reasons"] == ["certificate_suspended"]
    assert svc.store.set_serial_status(serial, SerialStatus.ISSUED, at=svc.clock.now())
    restored = verdict(verify(api, signed))
    assert (restored["valid"], restored["certificate_status"]) == (True, "good")


def test_revoked_for_key_compromise(api, svc):
    customer = connected(api)
    signed = sign(customer, "raw")
    at = svc.clock.now().replace(microsecond=0)
    assert svc.store.set_serial_status(serial_of(signed), SerialStatus.REVOKED, at=at, reason="keyCompromise")
    body = verdict(verify(api, signed))
    assert (body["valid"], body["certificate_status"]) == (False, "revoked")
    assert body["revocation_reason"] == "keyCompromise"
    assert datetime.fromisoformat(body["revoked_at"]) == at


def test_an_expired_certificate_is_not_valid(api, clock):
    customer = connected(api)
    signed = sign(customer, "cms_detached")
    not_after = x509.load_pem_x509_certificate(signed["certificate_pem"].encode()).not_valid_after_utc
    clock.at = not_after + timedelta(seconds=1)
    body = verdict(verify(api, signed))
    assert (body["valid"], body["signature_valid"], body["chain_valid"]) == (False, True, True)
    assert body["certificate_status"] == "expired"
    assert body["reasons"] == ["certificate_expired"]


def test_an_unknown_serial_of_ours_is_not_valid(api, svc):
    customer = connected(api)
    signed = sign(customer, "cms_attached")
    # No record before notAfter never happens in service; if it did, nothing vouches for it.
    svc.clients.dynamodb.delete_item(
        TableName=svc.settings.table_name,
        Key=typed_key(keys.serial(serial_of(signed))),
    )
    body = verdict(verify(api, signed))
    assert (body["valid"], body["certificate_status"]) == (False, "unknown")
    assert body["reasons"] == ["certificate_status_unknown"]


# --- certificates not from this CA -------------------------------------------------------------


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
def test_a_self_signed_signer_does_not_chain(api, aws_calls, key_algorithm):
    ours = sign(connected(api), "cms_attached")
    verdict(verify(api, ours))  # loads the CA into the container, as a warm one has it
    certificate, key = foreign_signer(key_algorithm)
    aws_calls.clear()
    body = verdict(api.post(VERIFY, {"signature": b64(foreign_cms(certificate, key))}))
    assert (body["valid"], body["signature_valid"], body["chain_valid"]) == (False, True, False)
    assert body["certificate_status"] == "unknown"
    assert body["reasons"][0] == "certificate_not_issued_by_ca"
    # Another CA's serial says nothing about ours: no status lookup (one GetItem fewer).
    foreign_reads = aws_calls.calls.count("dynamodb.GetItem")
    aws_calls.clear()
    verdict(verify(api, ours))
    assert aws_calls.calls.count("dynamodb.GetItem") == foreign_reads + 1


def test_a_forged_issuer_name_does_not_chain(api, svc):
    customer = connected(api)
    ours = sign(customer, "raw")
    issuing = svc.certificate_authority().issuing_certificate
    certificate, key = foreign_signer(issuer=issuing.subject)
    assert certificate.issuer == issuing.subject
    body = verdict(api.post(VERIFY, {"signature": b64(foreign_cms(certificate, key))}))
    assert (body["valid"], body["chain_valid"]) == (False, False)
    assert "certificate_not_issued_by_ca" in body["reasons"]
    # Raw mode too: the certificate given alongside is judged the same way.
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(CONTENT.encode(), padding.PKCS1v15(), hashes.SHA256())
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    raw = verdict(verify(api, ours, signature=b64(signature), certificate_pem=pem))
    assert (raw["valid"], raw["signature_valid"], raw["chain_valid"]) == (False, True, False)


def test_the_ocsp_responder_certificate_does_not_pass_for_a_customers(api, svc):
    # The issuing CA certifies the responder too; its key must not make customer signatures.
    connected(api)
    ca = svc.certificate_authority()
    key = rsa.generate_private_key(65537, 2048)
    certificate = build_ocsp_responder_certificate(
        ca_key=ca.issuing_key(svc.kms),
        ca_certificate=ca.issuing_certificate,
        responder_public_key=key.public_key(),
        not_before=svc.clock.now(),
    )
    body = verdict(api.post(VERIFY, {"signature": b64(foreign_cms(certificate, key))}))
    assert (body["valid"], body["signature_valid"], body["chain_valid"]) == (False, True, False)
    assert "certificate_not_for_signing" in body["reasons"]


# --- openssl as an independent judge -----------------------------------------------------------


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
def test_verdicts_agree_with_openssl_cms_verify(api, tmp_path, key_algorithm):
    customer = connected(api, key_algorithm=key_algorithm)
    attached = sign(customer, "cms_attached")
    detached = sign(customer, "cms_detached")
    outsider, outsider_key = foreign_signer(key_algorithm)
    cases = {
        "attached": (base64.b64decode(attached["signature"]), None),
        "detached": (base64.b64decode(detached["signature"]), CONTENT),
        "detached, other content": (base64.b64decode(detached["signature"]), CONTENT + "!"),
        "flipped signature": (with_flipped_signature(base64.b64decode(attached["signature"])), None),
        "outsider": (foreign_cms(outsider, outsider_key), None),
        "outsider, detached": (foreign_cms(outsider, outsider_key, detached=True), CONTENT),
    }
    seen = set()
    for name, (der, content) in cases.items():
        openssl = openssl_cms_verify(
            tmp_path, der, attached["chain_pem"], content.encode() if content is not None else None
        )
        body = {"signature": b64(der), "format": "cms_detached" if content is not None else "cms_attached"}
        if content is not None:
            body["content"] = content
        ours = verdict(api.post(VERIFY, body))
        assert ours["valid"] == (openssl.returncode == 0), (name, ours, openssl.stderr)
        seen.add(ours["valid"])
    assert seen == {True, False}


# --- input that cannot be judged ---------------------------------------------------------------


def test_bad_input_is_a_4xx_with_a_stable_code_and_writes_nothing(api, aws_calls):
    customer = connected(api)
    attached = sign(customer, "cms_attached")
    raw = sign(customer, "raw")
    no_certs = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(b"x")
        .add_signer(*foreign_signer(), hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.NoCerts])
    )
    cases = [
        ({"signature": "not base64!"}, 400, "malformed_signature"),
        ({"signature": b64(b"garbage" * 20)}, 400, "malformed_signature"),
        ({"signature": b64(b"\x30\x03\x02\x01\x01")}, 400, "malformed_signature"),
        ({"signature": b64(base64.b64decode(attached["signature"])[:-40])}, 400, "malformed_signature"),
        ({"signature": b64(no_certs)}, 400, "signer_certificate_missing"),
        (
            {"signature": attached["signature"], "format": "cms_detached", "content": CONTENT},
            400,
            "format_mismatch",
        ),
        ({"signature": attached["signature"], "format": "cms_detached"}, 400, "content_required"),
        (
            {"signature": raw["signature"], "format": "raw", "certificate_pem": raw["certificate_pem"]},
            400,
            "content_required",
        ),
        ({"signature": raw["signature"], "format": "raw", "content": CONTENT}, 400, "certificate_required"),
        (
            {
                "signature": raw["signature"],
                "format": "raw",
                "content": CONTENT,
                "certificate_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            },
            400,
            "malformed_certificate",
        ),
        ({"signature": attached["signature"], "format": "pdf"}, 422, "validation_failed"),
        ({"signature": ""}, 422, "validation_failed"),
        ({"signature": attached["signature"], "extra": 1}, 422, "validation_failed"),
        ({"format": "raw"}, 422, "validation_failed"),
        ({"signature": "A" * (32 * 1024 + 4)}, 422, "validation_failed"),  # under the body limit
        # the content, given once and well encoded
        (
            {"signature": attached["signature"], "content": CONTENT, "content_sha256": sha256_hex(b"x")},
            400,
            "content_conflict",
        ),
        (
            {
                "signature": raw["signature"],
                "format": "raw",
                "content_base64": b64(b"x"),
                "content_sha256": "ab" * 32,
            },
            400,
            "content_conflict",
        ),
        (
            {"signature": attached["signature"], "content_base64": "not base64!"},
            400,
            "content_base64_invalid",
        ),
        ({"signature": attached["signature"], "content_sha256": "ab" * 31}, 400, "content_sha256_invalid"),
        ({"signature": attached["signature"], "content_sha256": "xy" * 32}, 400, "content_sha256_invalid"),
        (
            {"signature": attached["signature"], "content_sha256": b64(b"x" * 33)},
            400,
            "content_sha256_invalid",
        ),
        ({"signature": attached["signature"], "content": "가" * 2731}, 400, "content_too_large"),
        ({"signature": attached["signature"], "content_base64": b64(b"x" * 8193)}, 400, "content_too_large"),
        ({"signature": attached["signature"], "content": ""}, 422, "validation_failed"),
        ({"signature": attached["signature"], "content_sha256": "ab" * 33}, 422, "validation_failed"),
        (
            {"signature": raw["signature"], "format": "raw", "content_sha256": "ab" * 32},
            400,
            "certificate_required",
        ),
    ]
    for body, status, code in cases:
        aws_calls.clear()
        response = api.post(VERIFY, body)
        assert (response.status, response.json()["error"]["code"]) == (status, code), (body, response.body)
        assert not [c for c in aws_calls.calls if c.startswith("kms.") or c.endswith(WRITES)], body

    aws_calls.clear()
    oversized = api.post(
        VERIFY, body=json.dumps({"signature": "A" * 65 * 1024}).encode()
    )  # the verify call: 64 KiB
    assert (oversized.status, oversized.json()["error"]["code"]) == (413, "payload_too_large")


def test_no_mutation_of_a_signature_is_a_server_error(api):
    customer = connected(api, key_algorithm="EC_P256")
    full = base64.b64decode(signature_of(customer.sign_content(CONTENT, "cms_attached").json()))
    der = without_evidence(full)
    # Every 7th byte, and truncations: the parser meets lengths, tags and OIDs gone wrong. The
    # evidence (time-stamp token, OCSP answer: 4/5 of the bytes) more sparsely, every 31st.
    variants = [der[:i] + bytes([der[i] ^ 0xFF]) + der[i + 1 :] for i in range(0, len(der), 7)]
    variants += [der[:n] for n in range(0, len(der), 97)]
    variants += [full[:i] + bytes([full[i] ^ 0xFF]) + full[i + 1 :] for i in range(3, len(full), 31)]
    statuses = {api.post(VERIFY, {"signature": b64(v)}).status for v in variants if v}
    assert statuses <= {200, 400}, statuses


def test_a_customer_session_cannot_verify(api):
    customer = connected(api)
    signed = sign(customer, "cms_attached")
    response = customer.call("POST", VERIFY, {"signature": signed["signature"]})
    assert (response.status, response.json()["error"]["code"]) == (403, "institution_key_required")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1]",
        json.dumps({"signature": "AAAA", "unknown": 1}).encode(),
        json.dumps({"signature": "AAAA", "format": "raw", "content_base64": "not base64!"}).encode(),
        json.dumps({"signature": "AAAA", "content": "a", "content_sha256": "00"}).encode(),
        json.dumps({"signature": "A" * 10**6}).encode(),
    ],
    ids=["malformed", "array", "schema", "base64", "conflict", "too-large"],
)
def test_a_customer_session_cannot_verify_whatever_the_body(api, body):
    """Who may verify is judged before the body: a session learns nothing of how its body would
    have been judged."""
    customer = connected(api)
    response = customer.call("POST", VERIFY, body=body)
    assert (response.status, response.json()["error"]["code"]) == (403, "institution_key_required")


def test_no_credentials_is_401(api):
    response = api.request("POST", VERIFY, {"signature": "AAAA"}, api_key="")
    assert response.status == 401
