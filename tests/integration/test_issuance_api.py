"""Enrollment and issuance through the API (gateway -> authorizer -> handler -> moto)."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.customers import issue
from tests.support.people import ENROLLMENT
from tests.support.verifiers import assert_pkilint_clean, openssl_verify, pem_blocks


def verify_with_openssl(tmp_path, issued: dict):
    return openssl_verify(tmp_path, issued["certificate_pem"], *pem_blocks(issued["chain_pem"]))


def test_rsa_certificate_is_issued_and_verifies_with_openssl(api, tmp_path):
    issued = issue(api)
    result = verify_with_openssl(tmp_path, issued)
    assert result.returncode == 0, result.stdout + result.stderr
    cert = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    assert isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert cert.public_key().key_size == 2048
    assert format(cert.serial_number, "x") == issued["serial_number"]
    assert issued["status"] == "valid"  # the names every answer uses, not the stored "active"
    assert issued["auto_renew"] is True


def test_p256_certificate_is_issued_and_verifies_with_openssl(api, tmp_path):
    issued = issue(api, key_algorithm="EC_P256")
    assert verify_with_openssl(tmp_path, issued).returncode == 0
    cert = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    assert issued["key_algorithm"] == "EC_P256"


def test_certificate_lasts_three_years_and_names_the_customer(api):
    issued = issue(api)
    cert = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert 365 * 3 <= lifetime.days <= 365 * 3 + 1
    common_name = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert common_name.startswith("홍길동(")
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment


def test_namesakes_get_distinct_subjects(api):
    first = issue(api)
    namesake = ENROLLMENT | {"phone": "010-2222-3333"}
    second = issue(api, namesake)
    subjects = {
        x509.load_pem_x509_certificate(i["certificate_pem"].encode()).subject for i in (first, second)
    }
    assert len(subjects) == 2


@pytest.mark.parametrize("algorithm", ["RSA_2048", "EC_P256"])
def test_issued_certificates_and_chain_pass_pkilint(api, tmp_path, algorithm):
    issued = issue(api, key_algorithm=algorithm)
    for name, pem in [("leaf", issued["certificate_pem"]), ("issuing", pem_blocks(issued["chain_pem"])[0])]:
        (tmp_path / f"{name}.pem").write_text(pem)
    assert_pkilint_clean("lint_pkix_cert", str(tmp_path / "leaf.pem"))
    assert_pkilint_clean(
        "lint_pkix_signer_signee_cert_chain", str(tmp_path / "issuing.pem"), str(tmp_path / "leaf.pem")
    )
