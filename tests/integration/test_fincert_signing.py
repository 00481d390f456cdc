"""FinCert-style signing for bank frontends: content + sign type + PIN -> CMS SignedData that
`openssl cms -verify` accepts, or a raw signature; every signature takes the PIN and lands in
the customer's history."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tests.support.customers import connected
from tests.support.verifiers import openssl_cms_verify

CONTENT = "계좌이체: 국민은행 123-456-789012 홍길동 10,000원"


def sign(customer, content: str = CONTENT, **extra):
    body = {"content": content, "sign_type": "transfer", "pin": customer.pin} | extra
    return customer.call("POST", "/v1/signatures", body)


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
@pytest.mark.parametrize("signature_format", ["cms_attached", "cms_detached"])
def test_cms_verifies_with_openssl(api, tmp_path, key_algorithm, signature_format):
    customer = connected(api, key_algorithm=key_algorithm)
    response = sign(customer, format=signature_format)
    assert response.status == 201, response.body
    body = response.json()
    der = base64.b64decode(body["signature"])
    detached = signature_format == "cms_detached"
    result = openssl_cms_verify(tmp_path, der, body["chain_pem"], CONTENT.encode() if detached else None)
    assert result.returncode == 0, result.stderr
    assert result.stdout == CONTENT.encode()  # exactly the bytes sent, not canonicalised
    assert CONTENT.encode() in der if not detached else CONTENT.encode() not in der


def test_cms_over_other_content_fails_openssl(api, tmp_path):
    customer = connected(api)
    body = sign(customer, format="cms_detached").json()
    result = openssl_cms_verify(
        tmp_path, base64.b64decode(body["signature"]), body["chain_pem"], b"other content"
    )
    assert result.returncode != 0


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
def test_raw_signature_verifies_with_the_certificate_key(api, key_algorithm):
    customer = connected(api, key_algorithm=key_algorithm)
    body = sign(customer, format="raw").json()
    key = x509.load_pem_x509_certificate(body["certificate_pem"].encode()).public_key()
    signature = base64.b64decode(body["signature"])
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, CONTENT.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, CONTENT.encode(), ec.ECDSA(hashes.SHA256()))


def test_every_signature_takes_the_pin_and_is_in_the_history(api, aws_calls):
    customer = connected(api)
    wrong = sign(customer, pin="975313")
    assert (wrong.status, wrong.json()["error"]["code"]) == (400, "pin_invalid")
    assert "signature" not in wrong.json()
    missing = customer.call("POST", "/v1/signatures", {"content": CONTENT, "sign_type": "login"})
    assert missing.status == 422
    assert sign(customer, sign_type="login").status == 201
    signed = [e for e in customer.call("GET", "/v1/history").json()["entries"] if e["event"] == "signed"]
    assert len(signed) == 1
    assert signed[0]["detail"]["sign_type"] == "login"
    assert signed[0]["detail"]["hashes"] == hashlib.sha256(CONTENT.encode()).hexdigest()


def test_bad_signing_requests_are_refused_without_kms(api, aws_calls):
    customer = connected(api)
    cases = [
        ({"sign_type": "gift"}, 422),
        ({"format": "pdf"}, 422),
        ({"content": ""}, 422),
        ({"content": "x" * 8193}, 422),
        ({"pin": "12345"}, 400),
        ({"credential_id": "cred_someoneelse000000000"}, 404),
    ]
    for change, status in cases:
        aws_calls.clear()
        response = sign(customer, **change)
        assert response.status == status, (change, response.body)
        assert not any(c.startswith("kms.") for c in aws_calls.calls), change


def test_api_key_cannot_sign_for_a_customer(api):
    connected(api)
    response = api.post("/v1/signatures", {"content": CONTENT, "sign_type": "login", "pin": "135790"})
    assert (response.status, response.json()["error"]["code"]) == (403, "customer_session_required")


def test_the_content_limit_counts_the_utf8_bytes_that_are_signed(api, aws_calls):
    """8192 is a limit on what is signed, which is bytes: 2731 Hangul syllables are 8193 bytes
    and refused; content at the limit is signed, and the bank can check that signature with
    POST /v1/signatures/verify (whose content limit is the same)."""
    customer = connected(api)
    too_long = "가" * 2731
    aws_calls.clear()
    response = sign(customer, content=too_long)
    assert response.status == 422, response.body
    assert response.json()["error"]["code"] == "validation_failed"
    assert not [c for c in aws_calls.calls if c.startswith("kms.")]

    at_limit = "가" * 2730 + "xx"
    assert len(at_limit.encode()) == 8192
    signed = sign(customer, content=at_limit)
    assert signed.status == 201, signed.body
    body = {"signature": signed.json()["signature"], "format": "cms_attached"}
    verified = api.post("/v1/signatures/verify", body)
    assert verified.status == 200, verified.body
    assert verified.json()["valid"] is True
    over = api.post("/v1/signatures/verify", {"signature": "AAAA", "format": "raw", "content": too_long})
    assert over.status == 422, over.body
    assert over.json()["error"]["code"] == "validation_failed"
