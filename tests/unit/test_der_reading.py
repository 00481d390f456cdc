"""fincert.crypto.der's two readings of a stored certificate, judged by cryptography's X.509
module (which the functions that use them no longer import: cold start)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from fincert.crypto.der import pem, subject_common_name

_KEY = ec.generate_private_key(ec.SECP256R1())


def _certificate(subject: x509.Name) -> x509.Certificate:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")]))
        .public_key(_KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(_KEY, hashes.SHA256())
    )


SUBJECTS = {
    "hangul with a unique suffix": x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fincert-cloud"),
            x509.NameAttribute(NameOID.COMMON_NAME, "홍길동()0012345678901234"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "abc"),
        ]
    ),
    "printable string": x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Plain Name", _ASN1Type.PrintableString)]
    ),
    "bmp string": x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "홍길동", _ASN1Type.BMPString)]),
    "multi-valued RDN": x509.Name(
        [
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "unit"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "in a set"),
                ]
            )
        ]
    ),
    "no common name": x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org only")]),
}


@pytest.mark.parametrize("name", sorted(SUBJECTS))
def test_the_subject_common_name_is_what_cryptography_reads(name: str) -> None:
    certificate = _certificate(SUBJECTS[name])
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    expected = str(names[0].value) if names else None
    assert subject_common_name(certificate.public_bytes(Encoding.DER)) == expected


@pytest.mark.parametrize("name", sorted(SUBJECTS))
def test_pem_is_what_cryptography_writes(name: str) -> None:
    certificate = _certificate(SUBJECTS[name])
    assert (
        pem("CERTIFICATE", certificate.public_bytes(Encoding.DER))
        == certificate.public_bytes(Encoding.PEM).decode()
    )
