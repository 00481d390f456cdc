"""End to end: FinCert-style signing (`POST /v1/signatures`) as a bank's back end receives it. The
CMS SignedData must be what `openssl cms -verify` accepts against the CA the stack serves, over
exactly the content the customer was shown (text, or the bytes of a file, or the bytes a hash was
taken of); the raw signature must verify with the certificate's public key; several contents
signed for one PIN entry each verify on their own."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from tests.support.customers import Customer, connected, signature_of
from tests.support.stack import served_root
from tests.support.verifiers import pem_blocks

pytestmark = pytest.mark.e2e

CONTENT = "이체 확인: 국민은행 123-456-789012 홍길동 님께 1,250,000원\n수수료 0원 / 2026-11-25 13:05 KST"


@pytest.fixture(scope="module")
def customers(stack) -> dict[str, Customer]:
    return {algorithm: connected(stack, key_algorithm=algorithm) for algorithm in ("RSA_2048", "EC_P256")}


def ca_file(stack, customer: Customer, directory: Path) -> Path:
    """The trust anchor as a relying bank would fetch it (the served root) plus the issuing CA."""
    path = directory / "ca.pem"
    root = served_root(stack).public_bytes(Encoding.PEM).decode()
    path.write_text(root + pem_blocks(customer.issued["chain_pem"])[0])
    return path


def openssl_cms_verify(
    directory: Path, signature: bytes, ca: Path, content: Path | None = None
) -> subprocess.CompletedProcess:
    assert shutil.which("openssl"), "openssl is on PATH (scripts/ensure-system-packages installs it)"
    (directory / "signature.der").write_bytes(signature)
    out = directory / "verified.out"
    out.unlink(missing_ok=True)
    command = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "signature.der"]
    command += ["-CAfile", str(ca), "-purpose", "any", "-out", str(out)]
    if content is not None:
        command += ["-content", str(content)]
    return subprocess.run(command, cwd=directory, capture_output=True, check=False)


def signed(customer: Customer, signature_format: str, content: str = CONTENT) -> dict:
    """One text content in one format: the answer, with that one signature as `signature`."""
    response = customer.sign_content(content, signature_format)
    assert response.status_code == 201, response.text
    answer = response.json()
    return answer | {"signature": signature_of(answer)}


@pytest.mark.parametrize("algorithm", ["RSA_2048", "EC_P256"])
def test_attached_cms_verifies_with_openssl_and_carries_exactly_the_content(
    stack, customers, tmp_path, algorithm
):
    customer = customers[algorithm]
    body = signed(customer, "cms_attached")
    signature = base64.b64decode(body["signature"])

    result = openssl_cms_verify(tmp_path, signature, ca_file(stack, customer, tmp_path))

    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "verified.out").read_bytes() == CONTENT.encode("utf-8")
    assert_signed_by(signature, customer, expect_content=True)


@pytest.mark.parametrize("algorithm", ["RSA_2048", "EC_P256"])
def test_detached_cms_verifies_with_openssl_over_the_content_and_nothing_else(
    stack, customers, tmp_path, algorithm
):
    customer = customers[algorithm]
    body = signed(customer, "cms_detached")
    signature = base64.b64decode(body["signature"])
    ca = ca_file(stack, customer, tmp_path)
    content = tmp_path / "content.txt"
    content.write_bytes(CONTENT.encode("utf-8"))

    result = openssl_cms_verify(tmp_path, signature, ca, content)
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "verified.out").read_bytes() == CONTENT.encode("utf-8")
    assert_signed_by(signature, customer, expect_content=False)

    content.write_bytes(CONTENT.replace("1,250,000", "9,250,000").encode("utf-8"))
    assert openssl_cms_verify(tmp_path, signature, ca, content).returncode != 0, "another amount"


def test_openssl_refuses_the_cms_without_the_served_root(stack, customers, tmp_path):
    """The CAfile matters: the leaf's own issuing CA alone, without the served root, is not a
    trust anchor openssl accepts (no partial chain), so the test above really checks the chain."""
    customer = customers["RSA_2048"]
    signature = base64.b64decode(signed(customer, "cms_attached")["signature"])
    issuing_only = tmp_path / "issuing.pem"
    issuing_only.write_text(pem_blocks(customer.issued["chain_pem"])[0])
    assert openssl_cms_verify(tmp_path, signature, issuing_only).returncode != 0


@pytest.mark.parametrize("algorithm", ["RSA_2048", "EC_P256"])
def test_raw_signature_verifies_with_the_certificates_public_key(customers, algorithm):
    customer = customers[algorithm]
    body = signed(customer, "raw")
    signature = base64.b64decode(body["signature"])
    certificate = x509.load_pem_x509_certificate(body["certificate_pem"].encode())
    assert certificate.public_bytes(Encoding.PEM).decode() == customer.issued["certificate_pem"]
    key = certificate.public_key()
    data = CONTENT.encode("utf-8")
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):  # and over anything else, it does not
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data + b" ", padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(signature, data + b" ", ec.ECDSA(hashes.SHA256()))


# A file as a bank would send it: bytes that are not UTF-8 text (a PDF's binary marker, NULs).
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\x00\x00\xff\xfe"


@pytest.mark.parametrize("algorithm", ["RSA_2048", "EC_P256"])
def test_binary_content_verifies_with_openssl_attached_and_detached(stack, customers, tmp_path, algorithm):
    customer = customers[algorithm]
    ca = ca_file(stack, customer, tmp_path)
    response = customer.sign_contents(
        [{"base64": base64.b64encode(PDF).decode(), "name": "약정서.pdf"}], ["cms_attached", "cms_detached"]
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["contents"][0]["content_sha256"] == hashlib.sha256(PDF).hexdigest()

    attached = base64.b64decode(signature_of(answer, 0, "cms_attached"))
    result = openssl_cms_verify(tmp_path, attached, ca)
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "verified.out").read_bytes() == PDF, "the very bytes, not canonicalised"
    assert_signed_by(attached, customer, expect_content=True)

    detached = base64.b64decode(signature_of(answer, 0, "cms_detached"))
    content = tmp_path / "document.pdf"
    content.write_bytes(PDF)
    result = openssl_cms_verify(tmp_path, detached, ca, content)
    assert result.returncode == 0, result.stderr.decode()
    assert_signed_by(detached, customer, expect_content=False)
    content.write_bytes(PDF[:-1] + b"\x00")
    assert openssl_cms_verify(tmp_path, detached, ca, content).returncode != 0, "one byte changed"


@pytest.mark.parametrize("algorithm", ["RSA_2048", "EC_P256"])
def test_several_contents_for_one_pin_entry_each_verify_with_openssl(stack, customers, tmp_path, algorithm):
    """Text, a file and a hash (of a file the bank keeps), signed in one call with one PIN entry as
    detached CMS and raw signatures: each signature verifies over its own content, in order, and
    over no other content of the call."""
    customer = customers[algorithm]
    ca = ca_file(stack, customer, tmp_path)
    kept = "전자약관 제3조 (동의) 본문 전체".encode() * 20
    originals = [CONTENT.encode("utf-8"), PDF, kept]
    contents = [
        {"text": CONTENT},
        {"base64": base64.b64encode(PDF).decode()},
        {"sha256": hashlib.sha256(kept).hexdigest()},
    ]
    response = customer.sign_contents(contents, ["cms_detached", "raw"], "04")
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["sign_type"], answer["sign_type_code"]) == ("contract", "04")
    certificate = x509.load_pem_x509_certificate(answer["certificate_pem"].encode())
    for index, data in enumerate(originals):
        assert answer["contents"][index]["content_sha256"] == hashlib.sha256(data).hexdigest()
        detached = base64.b64decode(signature_of(answer, index, "cms_detached"))
        for other_index, other in enumerate(originals):
            path = tmp_path / f"content-{other_index}.bin"
            path.write_bytes(other)
            verified = openssl_cms_verify(tmp_path, detached, ca, path).returncode == 0
            assert verified == (other_index == index), (index, other_index)
        assert_signed_by(detached, customer, expect_content=False)
        assert_raw_signature(certificate, base64.b64decode(signature_of(answer, index, "raw")), data)


def assert_raw_signature(certificate: x509.Certificate, signature: bytes, data: bytes) -> None:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def assert_signed_by(signature: bytes, customer: Customer, *, expect_content: bool) -> None:
    """What openssl does not print: the signer is the customer's certificate, it is included,
    and the signer info carries a signing time."""
    content_info = cms.ContentInfo.load(signature)
    signed_data = content_info["content"]
    leaf = x509.load_pem_x509_certificate(customer.issued["certificate_pem"].encode())
    included = [c.chosen.dump() for c in signed_data["certificates"]]
    assert leaf.public_bytes(Encoding.DER) in included
    (signer_info,) = signed_data["signer_infos"]
    assert signer_info["sid"].chosen["serial_number"].native == leaf.serial_number
    attributes = {a["type"].native for a in signer_info["signed_attrs"]}
    assert "signing_time" in attributes
    encapsulated = signed_data["encap_content_info"]["content"]
    assert (encapsulated.native is not None) == expect_content
