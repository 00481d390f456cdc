"""fincert.crypto.cms_verify on its own: the signer identifications and signature schemes RFC 5652
allows, and hostile bytes, which must end as SignatureMalformed or a verdict, never a crash."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from fincert.crypto.cms_verify import (
    SignatureMalformed,
    chain_problems,
    load_certificate,
    verify_cms,
    verify_raw,
)
from fincert.crypto.signatures import build_cms, build_detached_cms_over_digest

CONTENT = "본인확인 challenge 3f9a".encode()
POLICY = "2.25.1"
NOW = datetime.now(UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@pytest.fixture(scope="module")
def ca():
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("test CA"))
        .issuer_name(_name("test CA"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def leaf(ca, key, *, policy: str = POLICY, digital_signature: bool = True) -> x509.Certificate:
    ca_certificate, ca_key = ca
    usage = dict.fromkeys(
        [
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ],
        False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(_name("subscriber"))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=3))
        .add_extension(x509.KeyUsage(digital_signature=digital_signature, **usage), critical=True)
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(policy), None)]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def rsa_signer(ca):
    key = rsa.generate_private_key(65537, 2048)
    return leaf(ca, key), key


@pytest.fixture(scope="module")
def ec_signer(ca):
    key = ec.generate_private_key(ec.SECP256R1())
    return leaf(ca, key), key


def signed_data(certificate, key, *, detached=False, rsa_padding=None, content=CONTENT) -> bytes:
    options = [pkcs7.PKCS7Options.Binary] + ([pkcs7.PKCS7Options.DetachedSignature] if detached else [])
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(certificate, key, hashes.SHA256(), rsa_padding=rsa_padding)
        .sign(serialization.Encoding.DER, options)
    )


def test_pkcs1_pss_and_ecdsa_signers_verify(rsa_signer, ec_signer):
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    for (certificate, key), rsa_padding in [(rsa_signer, None), (rsa_signer, pss), (ec_signer, None)]:
        check = verify_cms(signed_data(certificate, key, rsa_padding=rsa_padding), None, detached=False)
        assert check.problems == (), rsa_padding
        assert check.content == CONTENT
        assert check.certificate == certificate
        assert abs(check.signing_time - datetime.now(UTC)) < timedelta(minutes=5)


def test_pss_is_checked_with_its_own_parameters(rsa_signer):
    certificate, key = rsa_signer
    der = signed_data(certificate, key, rsa_padding=padding.PSS(padding.MGF1(hashes.SHA256()), 32))
    info = cms.ContentInfo.load(der)
    assert info["content"]["signer_infos"][0]["signature_algorithm"]["algorithm"].native == "rsassa_pss"
    assert verify_cms(der, None, detached=False).valid


def test_a_subject_key_identifier_names_the_signer(ec_signer):
    certificate, key = ec_signer
    info = cms.ContentInfo.load(signed_data(certificate, key, detached=True))
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    info["content"]["signer_infos"][0]["sid"] = cms.SignerIdentifier({"subject_key_identifier": ski})
    check = verify_cms(info.dump(force=True), CONTENT, detached=True)
    assert check.valid and check.certificate == certificate


def test_the_signed_attributes_are_what_is_signed(ec_signer):
    certificate, key = ec_signer
    info = cms.ContentInfo.load(signed_data(certificate, key))
    attributes = info["content"]["signer_infos"][0]["signed_attrs"]
    # Drop signing-time: the digest still matches, but the signature was over the original set.
    kept = [a for a in attributes if a["type"].native != "signing_time"]
    info["content"]["signer_infos"][0]["signed_attrs"] = cms.CMSAttributes(kept)
    assert verify_cms(info.dump(force=True), None, detached=False).problems == ("signature_invalid",)


def test_raw_signatures_are_checked_from_the_contents_digest(rsa_signer, ec_signer):
    """A signature made over the content (the key hashes it) checks against its SHA-256 alone."""
    rsa_certificate, rsa_key = rsa_signer
    ec_certificate, ec_key = ec_signer
    digest = hashlib.sha256(CONTENT).digest()
    assert verify_raw(
        rsa_key.sign(CONTENT, padding.PKCS1v15(), hashes.SHA256()), rsa_certificate, digest
    ).valid
    assert verify_raw(ec_key.sign(CONTENT, ec.ECDSA(hashes.SHA256())), ec_certificate, digest).valid
    wrong = ec_key.sign(CONTENT + b".", ec.ECDSA(hashes.SHA256()))
    assert verify_raw(wrong, ec_certificate, digest).problems == ("signature_invalid",)
    assert verify_raw(b"\x00" * 3, rsa_certificate, digest).problems == ("signature_invalid",)


@pytest.mark.parametrize("signer", ["rsa_signer", "ec_signer"])
def test_a_detached_signature_checks_against_the_contents_digest(request, signer):
    certificate, key = request.getfixturevalue(signer)
    der = signed_data(certificate, key, detached=True)
    digest = hashlib.sha256(CONTENT).digest()
    check = verify_cms(der, None, detached=True, content_sha256=digest)
    assert check.valid and check.content is None
    other = hashlib.sha256(CONTENT + b".").digest()
    assert verify_cms(der, None, detached=True, content_sha256=other).problems == ("message_digest_mismatch",)


def test_an_attached_signature_compares_a_given_digest_with_what_it_carries(ec_signer):
    certificate, key = ec_signer
    der = signed_data(certificate, key)
    assert verify_cms(der, None, detached=False, content_sha256=hashlib.sha256(CONTENT).digest()).valid
    other = hashlib.sha256(b"other").digest()
    assert verify_cms(der, None, detached=False, content_sha256=other).problems == ("content_mismatch",)


@pytest.mark.parametrize("signer", ["rsa_signer", "ec_signer"])
def test_a_detached_signed_data_built_from_a_digest_is_the_one_built_from_the_content(ca, request, signer):
    """build_detached_cms_over_digest matches cryptography's builder field for field (only the
    signature differs, and for RSA PKCS#1 v1.5, deterministic, not even that): a relying party
    cannot tell which one made it, and cms_verify accepts it over the content and the digest."""
    certificate, key = request.getfixturevalue(signer)
    issuing, _ = ca
    from_content = build_cms(
        certificate.public_bytes(serialization.Encoding.DER), key, CONTENT, issuing, detached=True
    )
    reference = cms.ContentInfo.load(from_content)["content"]
    (signing_time,) = [
        a["values"][0].native
        for a in reference["signer_infos"][0]["signed_attrs"]
        if a["type"].native == "signing_time"
    ]
    from_digest = build_detached_cms_over_digest(
        certificate.public_bytes(serialization.Encoding.DER),
        key,
        hashlib.sha256(CONTENT).digest(),
        issuing,
        signing_time,
    )
    ours = cms.ContentInfo.load(from_digest)["content"]
    for field in ("version", "digest_algorithms", "encap_content_info", "certificates", "crls"):
        assert ours[field].dump() == reference[field].dump(), field
    mine, theirs = ours["signer_infos"][0], reference["signer_infos"][0]
    for field in (
        "version",
        "sid",
        "digest_algorithm",
        "signed_attrs",
        "signature_algorithm",
        "unsigned_attrs",
    ):
        assert mine[field].dump() == theirs[field].dump(), field
    if isinstance(key, rsa.RSAPrivateKey):
        assert from_digest == from_content
    for content, digest in ((CONTENT, None), (None, hashlib.sha256(CONTENT).digest())):
        check = verify_cms(from_digest, content, detached=True, content_sha256=digest)
        assert check.problems == () and check.certificate == certificate


def test_a_digest_builds_only_a_sha256_signature(rsa_signer, ca):
    certificate, key = rsa_signer
    with pytest.raises(ValueError):
        build_detached_cms_over_digest(
            certificate.public_bytes(serialization.Encoding.DER), key, b"\x00" * 20, ca[0], NOW
        )


def test_chain_and_profile(ca, rsa_signer):
    ca_certificate, _ = ca
    certificate, key = rsa_signer
    assert chain_problems(certificate, ca_certificate, POLICY) == ()
    assert chain_problems(certificate, ca_certificate, "2.25.2") == ("certificate_not_for_signing",)
    no_signing = leaf(ca, key, digital_signature=False)
    assert chain_problems(no_signing, ca_certificate, POLICY) == ("certificate_not_for_signing",)
    other_ca = ec.generate_private_key(ec.SECP256R1())
    impostor = leaf((ca_certificate, other_ca), key)  # our CA's name, another CA's key
    assert chain_problems(impostor, ca_certificate, POLICY) == ("certificate_not_issued_by_ca",)
    assert chain_problems(ca_certificate, certificate, POLICY) == ("certificate_not_issued_by_ca",)


def test_certificates_load_from_pem_or_base64_der(rsa_signer):
    certificate, _ = rsa_signer
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    assert load_certificate(pem) == certificate
    assert (
        load_certificate(base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode())
        == certificate
    )
    for bad in ["", "%%%", "AAAA", pem.replace("M", "A", 5)]:
        with pytest.raises(SignatureMalformed) as raised:
            load_certificate(bad)
        assert raised.value.code == "malformed_certificate"


@pytest.mark.parametrize("detached", [False, True])
def test_every_single_byte_mutation_is_malformed_or_a_verdict(ca, ec_signer, rsa_signer, detached):
    ca_certificate, _ = ca
    outcomes = set()
    for certificate, key in (ec_signer, rsa_signer):
        der = signed_data(certificate, key, detached=detached)
        for i in range(len(der)):
            for mask in (0x01, 0x80, 0xFF):
                mutated = der[:i] + bytes([der[i] ^ mask]) + der[i + 1 :]
                try:
                    check = verify_cms(mutated, CONTENT if detached else None, detached=detached)
                except SignatureMalformed as e:
                    outcomes.add(e.code)
                    continue
                chain_problems(check.certificate, ca_certificate, POLICY)
                outcomes.add("valid" if check.valid else "invalid")
        for n in range(len(der)):
            with pytest.raises(SignatureMalformed):
                verify_cms(der[:n], CONTENT, detached=detached)
    # The mutations reached every kind of outcome, not only the parser's refusal.
    assert {"malformed_signature", "invalid", "valid"} <= outcomes, outcomes
