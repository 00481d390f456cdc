"""CRL building (fincert.crypto.crl), judged by `openssl crl`, `openssl verify -crl_check` and
pkilint's lint_crl. The CA keys live in moto's KMS behind the production adapter; a CRL whose TBS
passes 4096 bytes goes to KMS as MessageType=DIGEST, which moto honours only with the
kms_digest correction of fincert_local.moto_fixes (applied to the whole suite by tests/conftest.py,
self-tested in tests/unit/test_moto_fixes.py)."""

import dataclasses
import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fincert.crypto.crl import MAX_CRL_NUMBER, RevokedEntry, build_crl, crl_number_at
from fincert.crypto.kms_keys import KMS_RAW_MESSAGE_LIMIT, kms_private_key
from fincert.crypto.x509_profile import (
    build_root_ca_certificate,
    build_subscriber_certificate,
    new_serial_number,
)
from fincert_local import moto_fixes
from moto import mock_aws

from tests.support.ca_chain import POLICY_OID, URLS, RecordingKms, moto_ca
from tests.support.verifiers import assert_pkilint_clean, pkilint_findings

UTC = dt.UTC
# A second CRL base, so the "partition" leaves name another CRL than the others.
PARTITION_BASE = "http://pki.fincert.example/pki/crl/7"
NOW = dt.datetime.now(UTC).replace(microsecond=0)
THIS_UPDATE = NOW - dt.timedelta(minutes=1)
NEXT_UPDATE = THIS_UPDATE + dt.timedelta(days=1)
REGION = "ap-northeast-2"
# What pkilint needs to lint a CRL: its type (a CRL of end-entity certificates, not an ARL) and
# the profile (PKIX: this is not a TLS CA, so the CA/B Forum profile does not apply).
LINT_CRL = ("lint_crl", "-t", "CRL", "-p", "PKIX")


@dataclass
class Pki:
    kms: RecordingKms
    root: x509.Certificate
    issuing: x509.Certificate
    issuing_key: object
    root_key: object
    good: x509.Certificate
    revoked: x509.Certificate
    partition_good: x509.Certificate
    partition_revoked: x509.Certificate
    files: Path

    @property
    def partition_url(self) -> str:
        """The CRL the partition leaves name in their cRLDistributionPoints."""
        dp = self.partition_good.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        return dp[0].full_name[0].value

    def crl(self, revoked=(), *, crl_number: int = 1, **kw) -> bytes:
        return build_crl(
            issuer_certificate=kw.pop("issuer_certificate", self.issuing),
            issuer_key=kw.pop("issuer_key", self.issuing_key),
            crl_number=crl_number,
            this_update=kw.pop("this_update", THIS_UPDATE),
            next_update=kw.pop("next_update", NEXT_UPDATE),
            revoked=revoked,
            **kw,
        )


def _make_pki(client, key_spec: str, files: Path) -> Pki:
    ca = moto_ca(client, key_spec, NOW - dt.timedelta(days=1))
    # Certificates of partition 7 name its CRL in their cRLDistributionPoints.
    partition = dataclasses.replace(URLS, crl=PARTITION_BASE)
    pki = Pki(
        ca.kms,
        ca.root,
        ca.issuing,
        ca.issuing_key,
        ca.root_key,
        ca.leaf(),
        ca.leaf(),
        ca.leaf(partition),
        ca.leaf(partition),
        files,
    )
    for name in ("root", "issuing", "good", "revoked", "partition_good", "partition_revoked"):
        (files / f"{name}.pem").write_bytes(getattr(pki, name).public_bytes(serialization.Encoding.PEM))
    return pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    # The DIGEST patch is entered by the tests that sign large CRLs, not here: patches are
    # process-wide, and the patch's own test needs moto as it ships.
    with mock_aws():
        yield _make_pki(boto3.client("kms", region_name=REGION), "RSA_2048", tmp_path_factory.mktemp("crl"))


@pytest.fixture(autouse=True)
def _clear_signs(pki):
    pki.kms.signs.clear()


def _many(pki: Pki, count: int = 300) -> list[RevokedEntry]:
    reasons = [
        x509.ReasonFlags.superseded,
        x509.ReasonFlags.cessation_of_operation,
        x509.ReasonFlags.key_compromise,
        x509.ReasonFlags.certificate_hold,
        x509.ReasonFlags.unspecified,
        None,
    ]
    entries = [
        RevokedEntry(new_serial_number(), THIS_UPDATE - dt.timedelta(minutes=i), reasons[i % len(reasons)])
        for i in range(count - 1)
    ]
    return [*entries, RevokedEntry(pki.revoked.serial_number, THIS_UPDATE, x509.ReasonFlags.key_compromise)]


# --- openssl and pkilint -------------------------------------------------------------------


def _openssl(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True, check=False)


def _write_crl(pki: Pki, name: str, der: bytes) -> str:
    """Writes DER (for pkilint) and PEM (for `openssl verify -CRLfile`); returns the DER name."""
    (pki.files / f"{name}.der").write_bytes(der)
    pem = x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM)
    (pki.files / f"{name}.pem").write_bytes(pem)
    return f"{name}.der"


def _assert_openssl_verifies_crl(pki: Pki, name: str) -> None:
    checked = _openssl(pki.files, "crl", "-inform", "DER", "-in", name, "-CAfile", "issuing.pem", "-noout")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "verify OK" in checked.stderr


def _verify_leaf(pki: Pki, leaf: str, crl: str) -> subprocess.CompletedProcess:
    return _openssl(
        pki.files,
        "verify",
        "-x509_strict",
        "-crl_check",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "issuing.pem",
        "-CRLfile",
        crl.removesuffix(".der") + ".pem",
        f"{leaf}.pem",
    )


def _assert_lint_clean(pki: Pki, name: str) -> None:
    assert_pkilint_clean(*LINT_CRL, str(pki.files / name))


def test_empty_crl(pki):
    der = pki.crl([])
    name = _write_crl(pki, "empty", der)
    _assert_openssl_verifies_crl(pki, name)
    _assert_lint_clean(pki, name)
    crl = x509.load_der_x509_crl(der)
    assert len(crl) == 0
    assert crl.issuer == pki.issuing.subject
    assert crl.last_update_utc == THIS_UPDATE
    assert crl.next_update_utc == NEXT_UPDATE
    assert crl.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA256
    ski = pki.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert not aki.critical and aki.value.key_identifier == ski.digest
    number = crl.extensions.get_extension_for_class(x509.CRLNumber)
    assert not number.critical and number.value.crl_number == 1
    with pytest.raises(x509.ExtensionNotFound):
        crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
    # The good leaf validates against it.
    verify = _verify_leaf(pki, "good", name)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # Small CRLs are signed RAW.
    assert pki.kms.signs == [(len(crl.tbs_certlist_bytes), False)]


def test_a_few_entries_carry_their_reason_codes(pki):
    revoked_at = THIS_UPDATE - dt.timedelta(hours=1)
    entries = {
        pki.revoked.serial_number: x509.ReasonFlags.key_compromise,
        new_serial_number(): x509.ReasonFlags.superseded,
        new_serial_number(): x509.ReasonFlags.cessation_of_operation,
        new_serial_number(): x509.ReasonFlags.certificate_hold,
        new_serial_number(): x509.ReasonFlags.unspecified,
        new_serial_number(): None,
    }
    der = pki.crl(
        [RevokedEntry(serial, revoked_at, reason) for serial, reason in entries.items()], crl_number=2
    )
    name = _write_crl(pki, "few", der)
    _assert_openssl_verifies_crl(pki, name)
    _assert_lint_clean(pki, name)

    crl = x509.load_der_x509_crl(der)
    assert [entry.serial_number for entry in crl] == sorted(entries)
    for serial, reason in entries.items():
        entry = crl.get_revoked_certificate_by_serial_number(serial)
        assert entry is not None
        assert entry.revocation_date_utc == revoked_at
        if reason in (None, x509.ReasonFlags.unspecified):
            # RFC 5280 5.3.1: no reasonCode rather than unspecified.
            assert len(entry.extensions) == 0
        else:
            code = entry.extensions.get_extension_for_class(x509.CRLReason)
            assert not code.critical
            assert code.value.reason is reason

    text = _openssl(pki.files, "crl", "-inform", "DER", "-in", name, "-noout", "-text").stdout
    for shown in ("Key Compromise", "Superseded", "Cessation Of Operation", "Certificate Hold"):
        assert shown in text
    assert "Unspecified" not in text

    rejected = _verify_leaf(pki, "revoked", name)
    assert rejected.returncode != 0
    assert "certificate revoked" in rejected.stdout + rejected.stderr
    accepted = _verify_leaf(pki, "good", name)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_a_large_crl_is_signed_as_a_digest_and_verifies(pki):
    entries = _many(pki)
    der = pki.crl(entries, crl_number=3)
    crl = x509.load_der_x509_crl(der)
    assert len(crl) == 300
    assert len(crl.tbs_certlist_bytes) > KMS_RAW_MESSAGE_LIMIT
    # The production path: hashed locally, one KMS Sign with MessageType=DIGEST.
    assert pki.kms.signs == [(32, True)]

    name = _write_crl(pki, "large", der)
    _assert_openssl_verifies_crl(pki, name)
    _assert_lint_clean(pki, name)
    rejected = _verify_leaf(pki, "revoked", name)
    assert rejected.returncode != 0
    assert "certificate revoked" in rejected.stdout + rejected.stderr
    accepted = _verify_leaf(pki, "good", name)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_without_the_patch_moto_signs_large_crls_wrongly_and_the_builder_notices(pki):
    # What a KMS signing the digest the wrong way would do in production: the CRL is refused
    # rather than published.
    with moto_fixes.without("kms_digest"), pytest.raises(ValueError, match="does not verify"):
        pki.crl(_many(pki, 120))
    assert pki.kms.signs == [(32, True)]


def test_a_large_crl_from_an_ecdsa_ca_verifies(tmp_path):
    with mock_aws():
        ec_pki = _make_pki(boto3.client("kms", region_name=REGION), "ECC_NIST_P256", tmp_path)
        der = ec_pki.crl(_many(ec_pki), crl_number=1)
    assert ec_pki.kms.signs[-1] == (32, True)
    assert x509.load_der_x509_crl(der).signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA256
    name = _write_crl(ec_pki, "large-ec", der)
    _assert_openssl_verifies_crl(ec_pki, name)
    rejected = _verify_leaf(ec_pki, "revoked", name)
    assert "certificate revoked" in rejected.stdout + rejected.stderr


def test_openssl_rejects_a_tampered_crl(pki):
    der = bytearray(pki.crl(_many(pki, 20)))
    assert pki.kms.signs[0][1] is False  # small enough for RAW
    der[-9] ^= 0x01  # inside the signature
    name = _write_crl(pki, "tampered", bytes(der))
    checked = _openssl(pki.files, "crl", "-inform", "DER", "-in", name, "-CAfile", "issuing.pem", "-noout")
    assert "verify failure" in checked.stderr
    assert _verify_leaf(pki, "good", name).returncode != 0


# --- partitions ------------------------------------------------------------------------------


def test_a_partition_crl_names_its_distribution_point(pki):
    entries = [RevokedEntry(pki.partition_revoked.serial_number, THIS_UPDATE, x509.ReasonFlags.superseded)]
    der = pki.crl(entries, issuing_distribution_point_url=pki.partition_url)
    name = _write_crl(pki, "partition", der)
    _assert_openssl_verifies_crl(pki, name)
    _assert_lint_clean(pki, name)

    idp = x509.load_der_x509_crl(der).extensions.get_extension_for_class(x509.IssuingDistributionPoint)
    assert idp.critical
    assert [n.value for n in idp.value.full_name] == [pki.partition_url]
    assert idp.value.only_contains_user_certs
    assert not (idp.value.only_contains_ca_certs or idp.value.indirect_crl or idp.value.only_some_reasons)

    # openssl matches the CRL's IDP with each certificate's CRL DP.
    accepted = _verify_leaf(pki, "partition_good", name)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    rejected = _verify_leaf(pki, "partition_revoked", name)
    assert "certificate revoked" in rejected.stdout + rejected.stderr
    # A certificate of another partition is outside this CRL's scope: no status from it.
    other = _verify_leaf(pki, "good", name)
    assert other.returncode != 0
    assert "different CRL scope" in other.stdout + other.stderr


def test_pkilint_gate_catches_a_bad_crl(pki):
    # A negative control, built around fincert's builder (which never does this): a critical CRL
    # number. The harness must see what pkilint reports.
    bad = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.issuing.subject)
        .last_update(THIS_UPDATE)
        .next_update(NEXT_UPDATE)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.issuing.public_key()), critical=False
        )
        .add_extension(x509.CRLNumber(1), critical=True)
        .sign(pki.issuing_key, hashes.SHA256())
    )
    name = _write_crl(pki, "lint-bad", bad.public_bytes(serialization.Encoding.DER))
    findings = pkilint_findings(*LINT_CRL, str(pki.files / name))
    assert any("pkix.crl_number_extension_critical" in f for f in findings), findings


# --- CRL numbers ---------------------------------------------------------------------------


def test_crl_numbers_increase_with_time():
    base = dt.datetime(2026, 5, 1, 0, 0, 0, tzinfo=UTC)
    numbers = [
        crl_number_at(base + dt.timedelta(microseconds=step))
        for step in (0, 1, 999_999, 10**6, 86_400 * 10**6)
    ]
    assert numbers == sorted(set(numbers))
    kst = dt.timezone(dt.timedelta(hours=9))
    assert crl_number_at(base.astimezone(kst)) == crl_number_at(base)
    assert crl_number_at(base) == int(base.timestamp()) * 10**6
    # Far below RFC 5280's 20-octet ceiling for millennia.
    assert crl_number_at(dt.datetime(9999, 12, 31, tzinfo=UTC)) < MAX_CRL_NUMBER
    with pytest.raises(ValueError):
        crl_number_at(dt.datetime(2026, 5, 1))


def test_successive_crls_carry_increasing_numbers(pki):
    first_at, second_at = THIS_UPDATE - dt.timedelta(hours=1), THIS_UPDATE
    numbers = []
    for index, at in enumerate((first_at, second_at)):
        der = pki.crl([], crl_number=crl_number_at(at), this_update=at)
        name = _write_crl(pki, f"numbered-{index}", der)
        shown = _openssl(pki.files, "crl", "-inform", "DER", "-in", name, "-noout", "-crlnumber").stdout
        numbers.append(int(shown.strip().removeprefix("crlNumber=0x"), 16))
    assert numbers[0] < numbers[1]
    assert numbers == [crl_number_at(first_at), crl_number_at(second_at)]


def test_the_largest_crl_number_fits(pki):
    crl = x509.load_der_x509_crl(pki.crl([], crl_number=MAX_CRL_NUMBER))
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == MAX_CRL_NUMBER


# --- refusals before KMS ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revoked", "overrides"),
    [
        ([], {"crl_number": -1}),
        ([], {"crl_number": MAX_CRL_NUMBER + 1}),
        ([], {"next_update": THIS_UPDATE}),
        ([], {"this_update": dt.datetime(2026, 1, 1)}),  # naive
        ([], {"issuing_distribution_point_url": "ldap://pki.fincert.example/crl"}),
        ([RevokedEntry(5, NEXT_UPDATE)], {}),  # revoked after thisUpdate
        ([RevokedEntry(5, THIS_UPDATE), RevokedEntry(5, THIS_UPDATE)], {}),
        ([RevokedEntry(0, THIS_UPDATE)], {}),
        ([RevokedEntry(2**160, THIS_UPDATE)], {}),
        ([RevokedEntry(5, THIS_UPDATE, x509.ReasonFlags.remove_from_crl)], {}),
        ([RevokedEntry(5, dt.datetime(2026, 1, 1))], {}),
    ],
)
def test_inconsistent_crls_are_refused_before_kms(pki, revoked, overrides):
    with pytest.raises(ValueError):
        pki.crl(revoked, **overrides)
    assert pki.kms.signs == []


def test_a_key_that_is_not_the_issuers_never_reaches_kms(pki):
    with pytest.raises(ValueError, match="does not match"):
        pki.crl([], issuer_key=pki.root_key)
    assert pki.kms.signs == []


def test_only_a_crl_signing_certificate_can_issue_a_crl(pki):
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = build_subscriber_certificate(
        ca_key=key,
        ca_certificate=build_root_ca_certificate(signing_key=key, not_before=NOW - dt.timedelta(days=1)),
        subscriber_public_key=key.public_key(),
        serial_number=new_serial_number(),
        holder_name="홍길동",
        holder_suffix="1",
        not_before=NOW - dt.timedelta(days=1),
        urls=URLS,
        policy_oid=POLICY_OID,
    )
    with pytest.raises(ValueError, match="cRLSign"):
        pki.crl([], issuer_certificate=leaf, issuer_key=key)


class _GarbageKms:
    def sign(self, key_id, message, algorithm, *, is_digest=False):
        return b"\x01" * 256


def test_a_signature_that_does_not_verify_is_never_returned(pki):
    broken = kms_private_key(_GarbageKms(), "broken", pki.issuing.public_key())
    with pytest.raises(ValueError, match="does not verify"):
        pki.crl([], issuer_key=broken)
