"""The time-stamp token is written as DER by hand (fincert.crypto.tsp.build_token); asn1crypto,
which knows the RFC 3161 and CMS structures, writes the same token from the same values here, and
the two must be the same bytes. RSA PKCS#1 v1.5 signatures are deterministic, so whole tokens
compare; an ECDSA one is checked with the public key over what asn1crypto says was signed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fincert.crypto import der
from fincert.crypto.tsp import IMPRINT_ALGORITHMS, TimestampQuery, build_token

POLICY = "1.3.6.1.4.1.32473.1.2"
GEN_TIME = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, serial: int) -> x509.Certificate:
    # A non-ASCII organisation and a long issuer name: multi-octet lengths in the names.
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fincert 시점확인"),
            x509.NameAttribute(NameOID.COMMON_NAME, "fincert TSA"),
        ]
    )
    issuer = x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"unit {n} " + "x" * 50) for n in range(3)]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(GEN_TIME)
        .not_valid_after(GEN_TIME + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


def _asn1crypto_token(key, certificate: x509.Certificate, query: TimestampQuery, serial: int, sign) -> bytes:
    """The token asn1crypto writes from these values (`sign(signed attributes DER) -> value`)."""
    cert = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    tst_info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": POLICY,
            "message_imprint": {
                "hash_algorithm": {"algorithm": query.hash_algorithm},
                "hashed_message": query.hashed_message,
            },
            "serial_number": serial,
            "gen_time": GEN_TIME.replace(microsecond=0),
            "accuracy": {"seconds": 1},
            "nonce": query.nonce,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=cert.subject),
        }
    )
    issuer_serial = {
        "issuer": [asn1_x509.GeneralName(name="directory_name", value=cert.issuer)],
        "serial_number": cert.serial_number,
    }
    signing_certificate = {
        "certs": [{"cert_hash": hashlib.sha256(cert.dump()).digest(), "issuer_serial": issuer_serial}]
    }
    attributes = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.sha256(tst_info.dump()).digest()]}
            ),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [signing_certificate]}),
        ]
    )
    rsa_signer = isinstance(key, rsa.RSAPrivateKey)
    signer_info = {
        "version": "v1",
        "sid": cms.SignerIdentifier(
            name="issuer_and_serial_number",
            value={"issuer": cert.issuer, "serial_number": cert.serial_number},
        ),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": attributes,
        "signature_algorithm": {"algorithm": "rsassa_pkcs1v15" if rsa_signer else "sha256_ecdsa"},
        "signature": sign(attributes.dump()),
    }
    signed_data = {
        "version": "v3",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "tst_info", "content": tst_info},
        "certificates": [cert] if query.cert_req else None,
        "signer_infos": [signer_info],
    }
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


def _query(algorithm: str, nonce: int | None, cert_req: bool) -> TimestampQuery:
    oid = next(oid for oid, (name, _) in IMPRINT_ALGORITHMS.items() if name == algorithm)
    return TimestampQuery(
        algorithm, oid, hashlib.new(algorithm, b"a signature value").digest(), nonce, cert_req, None
    )


@pytest.mark.parametrize(
    ("algorithm", "nonce", "cert_req", "serial", "tsa_serial"),
    [
        ("sha256", None, True, 1, 1),
        ("sha256", 2**64 - 1, False, 2**159 - 1, 127),
        ("sha384", 0, True, 128, 128),
        ("sha512", -129, True, 255, 2**63 + 5),
        ("sha256", 2**255, False, 2**63, 2**159 - 1),
    ],
)
def test_an_rsa_token_is_the_one_asn1crypto_writes(rsa_key, algorithm, nonce, cert_req, serial, tsa_serial):
    certificate = _certificate(rsa_key, tsa_serial)
    query = _query(algorithm, nonce, cert_req)

    token = build_token(
        key=rsa_key,
        tsa_certificate=certificate,
        query=query,
        policy_oid=POLICY,
        serial_number=serial,
        gen_time=GEN_TIME,
    )

    def sign(data: bytes) -> bytes:
        return rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    assert token == _asn1crypto_token(rsa_key, certificate, query, serial, sign)


def test_an_ecdsa_token_is_the_one_asn1crypto_writes_and_its_signature_verifies(ec_key):
    certificate = _certificate(ec_key, 2**100 + 7)
    query = _query("sha256", 12345, True)

    token = build_token(
        key=ec_key,
        tsa_certificate=certificate,
        query=query,
        policy_oid=POLICY,
        serial_number=99,
        gen_time=GEN_TIME,
    )

    signer_info = cms.ContentInfo.load(token)["content"]["signer_infos"][0]
    signature = signer_info["signature"].native
    assert token == _asn1crypto_token(ec_key, certificate, query, 99, lambda _: signature)
    ec_key.public_key().verify(
        signature, signer_info["signed_attrs"].untag().dump(), ec.ECDSA(hashes.SHA256())
    )


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "020100"), (127, "02017f"), (128, "02020080"), (-1, "0201ff"), (-128, "020180"), (-129, "0202ff7f")],
)
def test_integers_take_the_fewest_twos_complement_octets(value, encoded):
    assert der.integer(value).hex() == encoded


def test_object_identifiers_and_long_lengths():
    assert der.object_identifier("1.2.840.113549.1.9.16.2.47").hex() == "060b2a864886f70d010910022f"
    assert der.object_identifier("2.999.3").hex() == "0603883703"
    for bad in ("1", "3.1", "1.40", "1.2.-3", "1..2"):
        with pytest.raises(ValueError):
            der.object_identifier(bad)
    long = der.tlv(der.OCTET_STRING, b"\x00" * 300)
    assert long[:4].hex() == "0482012c" and der.contents(long) == b"\x00" * 300
    assert der.tlvs(long + der.integer(5)) == [long, der.integer(5)]
