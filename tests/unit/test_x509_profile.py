import datetime as dt
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    CertificatePoliciesOID,
    ExtensionOID,
    NameOID,
    SignatureAlgorithmOID,
)
from fincert.crypto.keys import KeyAlgorithm, generate_private_key, public_key_from_der
from fincert.crypto.kms_keys import kms_private_key
from fincert.crypto.x509_profile import (
    ISSUING_CA_SUBJECT,
    ROOT_CA_SUBJECT,
    PkiUrls,
    build_issuing_ca_certificate,
    build_root_ca_certificate,
    build_subscriber_certificate,
    certificate_validity,
    new_serial_number,
    subscriber_subject,
)
from moto import mock_aws

from tests.fakes.kms import FakeKeyManagement
from tests.support.verifiers import assert_pkilint_clean, pkilint_findings

UTC = dt.UTC
# RFC 5612 reserves PEN 32473 for documentation. A 2.25.<UUID> OID would not do here: pkilint's
# decoder refuses OID arcs of 2**32 and above (see x509_profile's module docstring).
POLICY_OID = "1.3.6.1.4.1.32473.1.1"
URLS = PkiUrls.from_base("http://pki.fincert.example")


# --- validity ------------------------------------------------------------------------------


def test_validity_is_three_calendar_years_minus_one_second():
    start = dt.datetime(2026, 3, 15, 9, 30, 0, tzinfo=UTC)
    assert certificate_validity(start) == (start, dt.datetime(2029, 3, 15, 9, 29, 59, tzinfo=UTC))


def test_validity_from_a_leap_day_ends_on_feb_28():
    start = dt.datetime(2028, 2, 29, 12, 0, 0, tzinfo=UTC)
    assert certificate_validity(start)[1] == dt.datetime(2031, 2, 28, 11, 59, 59, tzinfo=UTC)


def test_validity_at_midnight_steps_back_into_the_previous_day():
    start = dt.datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC)
    not_after = certificate_validity(start)[1]
    assert not_after == dt.datetime(2029, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert (dt.datetime(2030, 1, 1, tzinfo=UTC) - not_after).total_seconds() == 1


def test_validity_drops_microseconds_and_converts_to_utc():
    kst = dt.timezone(dt.timedelta(hours=9))
    start = dt.datetime(2026, 5, 1, 9, 0, 0, 999_999, tzinfo=kst)
    not_before, not_after = certificate_validity(start)
    assert not_before == dt.datetime(2026, 5, 1, 0, 0, 0, tzinfo=UTC)
    assert not_before.microsecond == 0
    assert not_before.utcoffset() == dt.timedelta(0)
    assert not_after == dt.datetime(2029, 4, 30, 23, 59, 59, tzinfo=UTC)


def test_validity_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        certificate_validity(dt.datetime(2026, 1, 1))


# --- serial numbers --------------------------------------------------------------------------


def _der_integer_length(value: int) -> int:
    """Content octets of a DER INTEGER for a non-negative value (X.690 8.3)."""
    return value.bit_length() // 8 + 1


def test_serials_are_positive_large_distinct_and_fit_20_octets():
    serials = [new_serial_number() for _ in range(2000)]
    assert len(set(serials)) == len(serials)
    for serial in serials:
        assert serial > 2**63
        assert 0 < _der_integer_length(serial) <= 20
    # The low bits are random, not a counter: both parities occur.
    assert {s & 1 for s in serials} == {0, 1}


def test_serial_encodes_within_20_octets_in_a_real_certificate():
    key = generate_private_key(KeyAlgorithm.EC_P256)
    cert = build_root_ca_certificate(signing_key=key, not_before=dt.datetime.now(UTC), years=1)
    asn1 = _openssl_text("asn1parse", "-inform", "DER", stdin=cert.public_bytes(serialization.Encoding.DER))
    serial_line = asn1.splitlines()[4]  # cert SEQ, tbs SEQ, [0], version INTEGER 2, serial INTEGER
    assert "prim: INTEGER" in serial_line
    assert "l=  20" in serial_line


# --- subject -----------------------------------------------------------------------------------


def test_subscriber_subject_names_holder_and_suffix():
    subject = subscriber_subject("홍길동", "A1B2C3")
    cn = subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "홍길동(A1B2C3)"
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "KR"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "fincert-cloud"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "personal"


def test_namesakes_get_different_subjects():
    assert subscriber_subject("김민준", "0001") != subscriber_subject("김민준", "0002")


def test_decomposed_hangul_is_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", "홍길동")
    assert subscriber_subject(decomposed, "x") == subscriber_subject("홍길동", "x")


@pytest.mark.parametrize(
    ("name", "suffix"), [("", "x"), ("홍길동", " "), ("a\x00b", "x"), ("가" * 60, "12345")]
)
def test_bad_subject_parts_are_refused(name, suffix):
    with pytest.raises(ValueError):
        subscriber_subject(name, suffix)


def test_urls_are_derived_from_the_base():
    urls = PkiUrls.from_base("https://pki.fincert.example/")
    assert urls.ocsp == "https://pki.fincert.example/pki/ocsp"
    assert urls.issuing_ca_cert == "https://pki.fincert.example/pki/issuing-ca.crt"
    assert urls.root_ca_cert == "https://pki.fincert.example/pki/root-ca.crt"
    assert urls.crl == "https://pki.fincert.example/pki/crl"
    assert urls.root_crl == "https://pki.fincert.example/pki/root.crl"


# --- a CA in (moto) KMS ----------------------------------------------------------------------


class BotoKms:
    """Test-only KeyManagement over a boto3 KMS client: the crypto package never sees boto3."""

    def __init__(self, client):
        self.client = client
        self.signed = []

    def sign(self, key_id, message, algorithm, *, is_digest=False):
        if is_digest:
            # moto 5.2 hashes DIGEST messages again, so that path is tested against the fake only.
            raise NotImplementedError("MessageType=DIGEST is not faithful in moto")
        self.signed.append((key_id, algorithm))
        response = self.client.sign(
            KeyId=key_id, Message=bytes(message), MessageType="RAW", SigningAlgorithm=algorithm
        )
        return response["Signature"]

    def public_key_der(self, key_id):
        return self.client.get_public_key(KeyId=key_id)["PublicKey"]


@dataclass
class Chain:
    kms: BotoKms
    root: x509.Certificate
    issuing: x509.Certificate
    issuing_key: object
    key_spec: str


@pytest.fixture(scope="module", params=["RSA_2048", "ECC_NIST_P256"])
def chain(request):
    key_spec = request.param
    with mock_aws():
        client = boto3.client("kms", region_name="ap-northeast-2")
        kms = BotoKms(client)

        def ca_key():
            key_id = client.create_key(KeySpec=key_spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
            return kms_private_key(kms, key_id, public_key_from_der(kms.public_key_der(key_id)))

        root_key, issuing_key = ca_key(), ca_key()
        now = dt.datetime.now(UTC)
        root = build_root_ca_certificate(signing_key=root_key, not_before=now)
        issuing = build_issuing_ca_certificate(
            root_key=root_key,
            root_certificate=root,
            issuing_public_key=issuing_key.public_key(),
            not_before=now,
            urls=URLS,
        )
        yield Chain(kms, root, issuing, issuing_key, key_spec)


def _issue(chain: Chain, alg: KeyAlgorithm, **overrides) -> x509.Certificate:
    kwargs = dict(
        ca_key=chain.issuing_key,
        ca_certificate=chain.issuing,
        subscriber_public_key=generate_private_key(alg).public_key(),
        serial_number=new_serial_number(),
        holder_name="홍길동",
        holder_suffix="7F3K9Q",
        not_before=dt.datetime.now(UTC),
        urls=URLS,
        policy_oid=POLICY_OID,
    )
    kwargs.update(overrides)
    return build_subscriber_certificate(**kwargs)


# --- independent verifiers ---------------------------------------------------------------------


def _openssl_text(*args: str, stdin: bytes) -> str:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout.decode()


def _pem(tmp_path: Path, name: str, cert: x509.Certificate) -> str:
    path = tmp_path / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_pkilint_gate_catches_a_bad_certificate(tmp_path, chain):
    # A negative control: the harness must see what pkilint reports.
    leaf = _issue(chain, KeyAlgorithm.EC_P256, urls=PkiUrls.from_base("http://localhost"))
    findings = pkilint_findings("lint_pkix_cert", _pem(tmp_path, "bad", leaf))
    assert any("pkix.invalid_uri_syntax" in f for f in findings), findings


def test_ca_certificates_passpkilint_findings(tmp_path, chain):
    root = _pem(tmp_path, "root", chain.root)
    issuing = _pem(tmp_path, "issuing", chain.issuing)
    assert_pkilint_clean("lint_pkix_cert", root)
    assert_pkilint_clean("lint_pkix_cert", issuing)
    assert_pkilint_clean("lint_pkix_signer_signee_cert_chain", root, root)
    assert_pkilint_clean("lint_pkix_signer_signee_cert_chain", root, issuing)


@pytest.mark.parametrize("alg", list(KeyAlgorithm))
def test_subscriber_certificate_verifies_with_openssl_and_passespkilint_findings(tmp_path, chain, alg):
    leaf = _issue(chain, alg)
    root, issuing, leaf_pem = (
        _pem(tmp_path, "root", chain.root),
        _pem(tmp_path, "issuing", chain.issuing),
        _pem(tmp_path, "leaf", leaf),
    )
    verify = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            # The leaf's policy must survive path validation through the issuing CA.
            "-policy_check",
            "-explicit_policy",
            "-policy",
            POLICY_OID,
            "-CAfile",
            root,
            "-untrusted",
            issuing,
            leaf_pem,
        ],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.strip().endswith(": OK")
    assert_pkilint_clean("lint_pkix_cert", leaf_pem)
    assert_pkilint_clean("lint_pkix_signer_signee_cert_chain", issuing, leaf_pem)


def test_openssl_rejects_a_leaf_without_its_issuing_ca(tmp_path, chain):
    leaf = _pem(tmp_path, "leaf", _issue(chain, KeyAlgorithm.RSA_2048))
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", _pem(tmp_path, "root", chain.root), leaf], capture_output=True
    )
    assert verify.returncode != 0


@pytest.mark.parametrize("alg", list(KeyAlgorithm))
def test_subscriber_profile(chain, alg):
    serial = new_serial_number()
    not_before = dt.datetime(2026, 6, 1, 3, 4, 5, 678, tzinfo=UTC)
    leaf = _issue(chain, alg, serial_number=serial, not_before=not_before)
    ext = leaf.extensions

    assert leaf.version is x509.Version.v3
    assert leaf.serial_number == serial
    assert leaf.issuer == chain.issuing.subject
    assert leaf.subject == subscriber_subject("홍길동", "7F3K9Q")
    assert leaf.not_valid_before_utc == dt.datetime(2026, 6, 1, 3, 4, 5, tzinfo=UTC)
    assert leaf.not_valid_after_utc == dt.datetime(2029, 6, 1, 3, 4, 4, tzinfo=UTC)
    expected_sig = (
        SignatureAlgorithmOID.RSA_WITH_SHA256
        if chain.key_spec == "RSA_2048"
        else SignatureAlgorithmOID.ECDSA_WITH_SHA256
    )
    assert leaf.signature_algorithm_oid == expected_sig

    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature and ku.value.content_commitment
    assert not (ku.value.key_cert_sign or ku.value.crl_sign or ku.value.key_encipherment)
    with pytest.raises(x509.ExtensionNotFound):
        ext.get_extension_for_class(x509.BasicConstraints)

    policies = ext.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == [POLICY_OID]

    issuing_ski = chain.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == issuing_ski.digest
    assert aki.authority_cert_issuer is None
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(leaf.public_key())

    aia = {
        (d.access_method, d.access_location.value)
        for d in ext.get_extension_for_class(x509.AuthorityInformationAccess).value
    }
    assert aia == {
        (AuthorityInformationAccessOID.OCSP, "http://pki.fincert.example/pki/ocsp"),
        (AuthorityInformationAccessOID.CA_ISSUERS, "http://pki.fincert.example/pki/issuing-ca.crt"),
    }
    (dp,) = ext.get_extension_for_class(x509.CRLDistributionPoints).value
    # The partition's CRL: the ISO week of notAfter (fincert.crl_partitions).
    year, week, _ = leaf.not_valid_after_utc.isocalendar()
    assert [n.value for n in dp.full_name] == [f"http://pki.fincert.example/pki/crl/{year}-w{week:02d}.crl"]

    expected_key = rsa.RSAPublicKey if alg is KeyAlgorithm.RSA_2048 else ec.EllipticCurvePublicKey
    assert isinstance(leaf.public_key(), expected_key)


def test_korean_names_are_utf8string_in_the_certificate(chain):
    leaf = _issue(chain, KeyAlgorithm.EC_P256, holder_name="김서연", holder_suffix="Q1")
    asn1 = _openssl_text("asn1parse", "-inform", "DER", stdin=leaf.public_bytes(serialization.Encoding.DER))
    strings = [line.split("prim:")[1].split() for line in asn1.splitlines() if "STRING" in line]
    subject_strings = [s for s in strings if s[0] != "OCTET" and s[0] != "BIT"][-4:]
    # RFC 5280 4.1.2.6: PrintableString for C, UTF8String for the DirectoryString values.
    assert subject_strings == [
        ["PRINTABLESTRING", ":KR"],
        ["UTF8STRING", ":fincert-cloud"],
        ["UTF8STRING", ":personal"],
        ["UTF8STRING", ":김서연(Q1)"],
    ]


def test_ca_profiles(chain):
    root, issuing = chain.root, chain.issuing
    assert root.subject == root.issuer == ROOT_CA_SUBJECT
    assert issuing.subject == ISSUING_CA_SUBJECT
    assert issuing.issuer == ROOT_CA_SUBJECT

    root_bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert root_bc.critical and root_bc.value.ca and root_bc.value.path_length is None
    issuing_bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
    assert issuing_bc.critical and issuing_bc.value.ca and issuing_bc.value.path_length == 0

    root_ku = root.extensions.get_extension_for_class(x509.KeyUsage)
    assert root_ku.critical and root_ku.value.key_cert_sign and root_ku.value.crl_sign
    assert not root_ku.value.digital_signature
    issuing_ku = issuing.extensions.get_extension_for_class(x509.KeyUsage)
    assert issuing_ku.critical
    assert issuing_ku.value.key_cert_sign and issuing_ku.value.crl_sign and issuing_ku.value.digital_signature

    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    root_aki = root.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert root_aki.key_identifier == root_ski.digest
    issuing_aki = issuing.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert issuing_aki.key_identifier == root_ski.digest
    (dp,) = issuing.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for n in dp.full_name] == [URLS.root_crl]
    aia = issuing.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [(d.access_method, d.access_location.value) for d in aia] == [
        (AuthorityInformationAccessOID.CA_ISSUERS, URLS.root_ca_cert)
    ]
    policies = issuing.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier for p in policies] == [CertificatePoliciesOID.ANY_POLICY]
    assert root.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    assert root.not_valid_after_utc - root.not_valid_before_utc > dt.timedelta(days=365 * 20 - 1)
    assert issuing.not_valid_after_utc < root.not_valid_after_utc


def test_every_ca_signature_went_through_kms_raw(chain):
    algorithms = {alg for _, alg in chain.kms.signed}
    expected = "RSASSA_PKCS1_V1_5_SHA_256" if chain.key_spec == "RSA_2048" else "ECDSA_SHA_256"
    assert algorithms == {expected}


def test_a_ca_key_that_does_not_match_the_ca_certificate_is_refused_before_kms(chain):
    fake = FakeKeyManagement()
    fake.create_key("other", "RSA_2048")
    other = kms_private_key(fake, "other", public_key_from_der(fake.public_key_der("other")))
    fake.calls.clear()
    with pytest.raises(ValueError, match="does not match"):
        _issue(chain, KeyAlgorithm.EC_P256, ca_key=other)
    assert fake.calls == []


def test_a_leaf_may_not_outlive_its_issuing_ca(chain):
    late = chain.issuing.not_valid_after_utc - dt.timedelta(days=365)
    with pytest.raises(ValueError, match="outlive"):
        _issue(chain, KeyAlgorithm.EC_P256, not_before=late)


@pytest.mark.parametrize("serial", [0, -5, 2**159])
def test_out_of_range_serials_are_refused(chain, serial):
    with pytest.raises(ValueError):
        _issue(chain, KeyAlgorithm.EC_P256, serial_number=serial)


def test_before_sign_sees_the_subscriber_tbs_first():
    fake = FakeKeyManagement()
    fake.create_key("ca", "RSA_2048")
    ca_public = public_key_from_der(fake.public_key_der("ca"))
    now = dt.datetime.now(UTC)
    root = build_root_ca_certificate(signing_key=kms_private_key(fake, "ca", ca_public), not_before=now)
    records = []
    ca_key = kms_private_key(
        fake, "ca", ca_public, before_sign=lambda tbs: records.append((tbs, len(fake.calls)))
    )
    fake.calls.clear()
    leaf = _issue(
        Chain(kms=None, root=root, issuing=root, issuing_key=ca_key, key_spec="RSA_2048"),
        KeyAlgorithm.EC_P256,
    )
    assert records == [(leaf.tbs_certificate_bytes, 0)]
    assert fake.calls == [("sign", "ca")]
