"""FinCert-style signing for bank frontends (`POST /v1/signatures`): 1 to 10 contents (text, bytes
or a SHA-256 hash) + sign type + formats + one PIN entry -> per content, in order, CMS SignedData
that `openssl cms -verify` accepts and/or a raw signature; the PIN is checked once for all of
them, and the signing lands in the customer's history once, with every content's hash."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from fincert.domain.institution_records import Principal
from fincert.domain.sign_requests import SignatureFormat, SignContent, SignedContents, SignType
from fincert.wiring import services

from tests.support.customers import connected, signature_of
from tests.support.verifiers import openssl_cms_verify

CONTENT = "계좌이체: 국민은행 123-456-789012 홍길동 10,000원"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n\x00\x01\x02\xff"
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sign(customer, text: str = CONTENT, **extra):
    body = {"contents": [{"text": text}], "sign_type": "transfer", "pin": customer.pin} | extra
    return customer.call("POST", "/v1/signatures", body)


def check_raw(certificate_pem: str, signature: bytes, data: bytes) -> None:
    key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def signed_history(customer) -> list[dict]:
    entries = customer.call("GET", "/v1/history?limit=100").json()["entries"]
    return [e for e in entries if e["event"] == "signed"]


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
@pytest.mark.parametrize("signature_format", ["cms_attached", "cms_detached"])
def test_cms_verifies_with_openssl(api, tmp_path, key_algorithm, signature_format):
    customer = connected(api, key_algorithm=key_algorithm)
    response = sign(customer, formats=[signature_format])
    assert response.status == 201, response.body
    body = response.json()
    assert body["formats"] == [signature_format]
    assert body["contents"][0]["content_sha256"] == hashlib.sha256(CONTENT.encode()).hexdigest()
    der = base64.b64decode(signature_of(body))
    detached = signature_format == "cms_detached"
    result = openssl_cms_verify(tmp_path, der, body["chain_pem"], CONTENT.encode() if detached else None)
    assert result.returncode == 0, result.stderr
    assert result.stdout == CONTENT.encode()  # exactly the bytes sent, not canonicalised
    assert CONTENT.encode() in der if not detached else CONTENT.encode() not in der


def test_the_default_format_is_attached_cms(api):
    customer = connected(api)
    body = sign(customer).json()
    assert body["formats"] == ["cms_attached"]
    assert [s["format"] for s in body["contents"][0]["signatures"]] == ["cms_attached"]


def test_cms_over_other_content_fails_openssl(api, tmp_path):
    customer = connected(api)
    body = sign(customer, formats=["cms_detached"]).json()
    result = openssl_cms_verify(
        tmp_path, base64.b64decode(signature_of(body)), body["chain_pem"], b"other content"
    )
    assert result.returncode != 0


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
def test_raw_signature_verifies_with_the_certificate_key(api, key_algorithm):
    customer = connected(api, key_algorithm=key_algorithm)
    body = sign(customer, formats=["raw"]).json()
    check_raw(body["certificate_pem"], base64.b64decode(signature_of(body)), CONTENT.encode())


@pytest.mark.parametrize("key_algorithm", ["RSA_2048", "EC_P256"])
def test_several_contents_of_each_kind_for_one_pin_entry(api, aws_calls, tmp_path, key_algorithm):
    """Text, bytes and a hash, each signed as a detached CMS and a raw signature, in order; the
    CMS made from the hash alone verifies with openssl over the bytes that were hashed."""
    customer = connected(api, key_algorithm=key_algorithm)
    hashed = "약관 동의서 v3 (PDF 본문)".encode()
    contents = [
        {"text": CONTENT},
        {"base64": b64(PDF), "name": "계약서.pdf"},
        {"sha256": hashlib.sha256(hashed).hexdigest()},
        {"sha256": b64(hashlib.sha256(b"second hash").digest())},  # base64 is accepted too
    ]
    originals = [CONTENT.encode(), PDF, hashed, b"second hash"]
    # Warm: a container decrypts the OCSP responder's key once, for the first signature's evidence.
    assert sign(customer).status == 201
    before = customer.account_item()
    aws_calls.clear()
    response = customer.sign_contents(contents, ["cms_detached", "raw"], "04")
    assert response.status == 201, response.body
    body = response.json()
    # One PIN entry: one slot reserved and forgiven, one VerifyMac, one key decryption.
    assert aws_calls.calls.count("kms.VerifyMac") == 1
    assert aws_calls.calls.count("kms.Decrypt") == 1
    after = customer.account_item()
    assert int(after["pin_attempts"]) == int(before["pin_attempts"]) + 1
    assert int(after["pin_cleared"]) == int(after["pin_attempts"])

    assert (body["sign_type"], body["sign_type_code"], body["formats"]) == (
        "contract",
        "04",
        ["cms_detached", "raw"],
    )
    assert len(body["contents"]) == len(contents)
    for index, (answer, data) in enumerate(zip(body["contents"], originals, strict=True)):
        assert answer["content_sha256"] == hashlib.sha256(data).hexdigest(), index
        assert [s["format"] for s in answer["signatures"]] == ["cms_detached", "raw"]
        cms = base64.b64decode(signature_of(body, index, "cms_detached"))
        result = openssl_cms_verify(tmp_path, cms, body["chain_pem"], data)
        assert result.returncode == 0, (index, result.stderr)
        assert data not in cms, "detached: the content is not in the SignedData"
        check_raw(body["certificate_pem"], base64.b64decode(signature_of(body, index, "raw")), data)

    # One signing, one history line: every content's keyed hash in order (docs/records.md), the
    # sign type by name and code.
    entry, _warm_up = signed_history(customer)  # newest first
    keyed = services().content_macs
    assert entry["detail"]["hashes"] == ",".join(keyed.of(hashlib.sha256(d).digest()) for d in originals)
    assert entry["detail"]["sign_type"] == "contract"
    assert entry["detail"]["sign_type_code"] == "04"
    assert entry["detail"]["contents"] == "4"
    assert entry["detail"]["kinds"] == "text,binary,hash,hash"
    assert entry["detail"]["formats"] == "cms_detached,raw"
    assert "계약서" not in json.dumps(entry, ensure_ascii=False), "file names are not stored"


def test_attached_cms_of_bytes_carries_them_exactly(api, tmp_path):
    customer = connected(api, key_algorithm="EC_P256")
    response = customer.sign_contents([{"base64": b64(PDF)}], ["cms_attached"])
    assert response.status == 201, response.body
    body = response.json()
    result = openssl_cms_verify(tmp_path, base64.b64decode(signature_of(body)), body["chain_pem"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == PDF


def test_a_raw_signature_of_a_hash_is_the_raw_signature_of_its_content(api):
    """RSA PKCS#1 v1.5 signs the SHA-256 digest and is deterministic: the hash alone gives the
    very signature the content gives."""
    customer = connected(api)
    digest = hashlib.sha256(CONTENT.encode()).digest()
    body = customer.sign_contents([{"text": CONTENT}, {"sha256": digest.hex()}], ["raw"]).json()
    of_text, of_hash = (base64.b64decode(signature_of(body, i)) for i in (0, 1))
    assert of_text == of_hash
    key = x509.load_pem_x509_certificate(body["certificate_pem"].encode()).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(of_hash, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


@pytest.mark.parametrize(
    ("sign_type", "name", "code"),
    [
        ("login", "login", "01"),
        ("02", "transfer", "02"),
        ("certificate_issuance", "certificate_issuance", "06"),
        ("07", "asset_linking", "07"),
        ("authenticator_management", "authenticator_management", "08"),
        ("99", "other", "99"),
    ],
)
def test_sign_types_by_name_or_fincert_code(api, sign_type, name, code):
    customer = connected(api)
    response = sign(customer, sign_type=sign_type, formats=["raw"])
    assert response.status == 201, response.body
    assert (response.json()["sign_type"], response.json()["sign_type_code"]) == (name, code)
    (entry,) = signed_history(customer)
    assert (entry["detail"]["sign_type"], entry["detail"]["sign_type_code"]) == (name, code)


def test_every_signature_takes_the_pin_and_is_in_the_history(api, aws_calls):
    customer = connected(api)
    wrong = customer.sign_contents([{"text": CONTENT}, {"text": "둘째"}], ["raw"], pin="975313")
    assert (wrong.status, wrong.json()["error"]["code"]) == (400, "pin_invalid")
    assert wrong.json()["error"]["details"]["remaining_attempts"] == 4, "two contents, one attempt"
    assert "contents" not in wrong.json()
    missing = customer.call("POST", "/v1/signatures", {"contents": [{"text": CONTENT}], "sign_type": "login"})
    assert missing.status == 422
    assert sign(customer, sign_type="login").status == 201
    signed = signed_history(customer)
    assert len(signed) == 1
    assert signed[0]["detail"]["sign_type"] == "login"
    assert signed[0]["detail"]["hashes"] == services().content_macs.of(
        hashlib.sha256(CONTENT.encode()).digest()
    )


TOO_MANY = [{"text": f"{i}"} for i in range(11)]
BAD_REQUESTS = [
    # the request's shape: 422 validation_failed
    ({"sign_type": "gift"}, 422, "validation_failed"),
    ({"sign_type": "10"}, 422, "validation_failed"),
    ({"formats": ["pdf"]}, 422, "validation_failed"),
    ({"formats": []}, 422, "validation_failed"),
    ({"formats": "raw"}, 422, "validation_failed"),
    ({"formats": ["raw", "cms_attached", "cms_detached", "raw"]}, 422, "validation_failed"),
    ({"contents": []}, 422, "validation_failed"),
    ({"contents": TOO_MANY}, 422, "validation_failed"),
    ({"contents": [{}]}, 422, "validation_failed"),
    ({"contents": [{"text": "x", "base64": "eA=="}]}, 422, "validation_failed"),  # mixed kinds
    ({"contents": [{"text": "x", "sha256": "ab" * 32}]}, 422, "validation_failed"),
    ({"contents": [{"name": "a.pdf"}]}, 422, "validation_failed"),
    ({"contents": [{"text": "x", "name": "a.pdf"}]}, 422, "validation_failed"),
    ({"contents": [{"text": ""}]}, 422, "validation_failed"),
    ({"contents": [{"text": "x" * 8193}]}, 422, "validation_failed"),
    ({"contents": ["x"]}, 422, "validation_failed"),
    ({"content": "the old single field"}, 422, "validation_failed"),
    ({"format": "raw"}, 422, "validation_failed"),
    # what the domain judges: 400 with a code of its own
    ({"contents": [{"text": "가" * 2731}]}, 400, "content_too_large"),  # 8193 bytes in UTF-8
    ({"contents": [{"base64": b64(b"x" * 8193)}]}, 400, "content_too_large"),
    ({"contents": [{"base64": "not base64!"}]}, 400, "content_base64_invalid"),
    ({"contents": [{"base64": "eA"}]}, 400, "content_base64_invalid"),  # padding missing
    ({"contents": [{"base64": "===="}]}, 400, "content_base64_invalid"),
    ({"contents": [{"sha256": "ab" * 31}], "formats": ["raw"]}, 400, "content_sha256_invalid"),
    ({"contents": [{"sha256": "zz" * 32}], "formats": ["raw"]}, 400, "content_sha256_invalid"),
    ({"contents": [{"sha256": b64(b"x" * 31)}], "formats": ["raw"]}, 400, "content_sha256_invalid"),
    ({"contents": [{"sha256": "ab" * 32}]}, 400, "hash_content_not_attachable"),  # the default format
    (
        {"contents": [{"text": "x"}, {"sha256": "ab" * 32}], "formats": ["raw", "cms_attached"]},
        400,
        "hash_content_not_attachable",
    ),
    ({"formats": ["raw", "raw"]}, 400, "formats_invalid"),
    ({"pin": "12345"}, 400, "pin_format"),
]


def test_bad_signing_requests_are_refused_without_a_write_or_kms(api, aws_calls):
    customer = connected(api)
    before = customer.account_item()
    for change, status, code in BAD_REQUESTS:
        aws_calls.clear()
        response = sign(customer, **change)
        assert response.status == status, (change, response.body)
        assert response.json()["error"]["code"] == code, (change, response.body)
        made = [c for c in aws_calls.calls if c.startswith("kms.") or c.endswith(WRITES)]
        assert not made, (change, made)
    # Another credential: the PIN slot's conditional reservation refuses it (nothing written), no KMS.
    aws_calls.clear()
    response = sign(customer, credential_id="cred_someoneelse000000000")
    assert (response.status, response.json()["error"]["code"]) == (404, "credential_not_found")
    assert not [c for c in aws_calls.calls if c.startswith("kms.")]
    after = customer.account_item()
    assert (after["pin_attempts"], after["pin_cleared"]) == (before["pin_attempts"], before["pin_cleared"])
    assert signed_history(customer) == []


def test_a_bad_content_is_named_by_its_index(api):
    customer = connected(api)
    contents = [{"text": "fine"}, {"base64": "eA=="}, {"base64": "not base64!"}]
    response = customer.sign_contents(contents, ["raw"])
    assert response.status == 400, response.body
    assert response.json()["error"]["code"] == "content_base64_invalid"
    assert response.json()["error"]["details"] == {"content": 2}
    hashes = customer.sign_contents(
        [{"text": "x"}, {"sha256": "ab" * 32}, {"sha256": "cd" * 32}], ["cms_attached"]
    )
    assert hashes.json()["error"]["details"] == {"contents": [1, 2]}


def test_api_key_cannot_sign_for_a_customer(api):
    connected(api)
    body = {"contents": [{"text": CONTENT}], "sign_type": "login", "pin": "135790"}
    response = api.post("/v1/signatures", body)
    assert (response.status, response.json()["error"]["code"]) == (403, "customer_session_required")


def test_the_content_limit_counts_the_bytes_that_are_signed(api, aws_calls):
    """8192 is a limit on what is signed, which is bytes: 2731 Hangul syllables are 8193 bytes
    and refused; content at the limit is signed, and the bank can check that signature with
    POST /v1/signatures/verify (whose content limit is the same)."""
    customer = connected(api)
    too_long = "가" * 2731
    aws_calls.clear()
    response = sign(customer, text=too_long)
    assert response.status == 400, response.body
    assert response.json()["error"]["code"] == "content_too_large"
    assert response.json()["error"]["details"] == {"content": 0, "max_bytes": 8192}
    assert not [c for c in aws_calls.calls if c.startswith("kms.")]

    at_limit = "가" * 2730 + "xx"
    assert len(at_limit.encode()) == 8192
    signed = sign(customer, text=at_limit)
    assert signed.status == 201, signed.body
    body = {"signature": signature_of(signed.json()), "format": "cms_attached"}
    verified = api.post("/v1/signatures/verify", body)
    assert verified.status == 200, verified.body
    assert verified.json()["valid"] is True
    over = api.post("/v1/signatures/verify", {"signature": "AAAA", "format": "raw", "content": too_long})
    assert over.status == 400, over.body
    assert over.json()["error"]["code"] == "content_too_large"

    binary_at_limit = customer.sign_contents([{"base64": b64(b"\xff" * 8192)}], ["cms_detached"])
    assert binary_at_limit.status == 201, binary_at_limit.body


def test_the_domain_entry_point_signs_for_another_handler(api, svc, tmp_path):
    """SigningService.sign_contents is what any handler calls (the bank API's, the hosted
    window's): contents as domain values, one PIN, per content its SHA-256 and signatures."""
    customer = connected(api)
    _, _, account_id, session_id, _ = customer.token.split(".")
    principal = Principal("demo-bank", frozenset(), account_id=account_id, session_id=session_id)
    contents = [
        SignContent.text(CONTENT),
        SignContent.binary(PDF, "a.pdf"),
        SignContent.from_sha256("ab" * 32),
    ]
    signed = svc.signing.sign_contents(
        principal,
        contents,
        SignType.parse("05"),
        [SignatureFormat.CMS_DETACHED, SignatureFormat.RAW],
        customer.pin,
    )
    assert isinstance(signed, SignedContents)
    assert (signed.sign_type, signed.credential.credential_id) == (SignType.PAYMENT, customer.credential_id)
    assert [c.sha256 for c in signed.contents] == [c.sha256 for c in contents]
    assert all(
        list(c.signatures) == [SignatureFormat.CMS_DETACHED, SignatureFormat.RAW] for c in signed.contents
    )
    chain = svc.certificate_authority().chain_pem()
    result = openssl_cms_verify(
        tmp_path, signed.contents[1].signatures[SignatureFormat.CMS_DETACHED], chain, PDF
    )
    assert result.returncode == 0, result.stderr
    (entry,) = signed_history(customer)
    assert (entry["detail"]["sign_type"], entry["detail"]["sign_type_code"]) == ("payment", "05")
