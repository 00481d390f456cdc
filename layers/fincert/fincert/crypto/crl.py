"""CRL (RFC 5280 section 5) building: a v2 CRL signed by the CA key, normally the KMS-backed key
class, which signs a TBSCertList above KMS's 4096-byte RAW limit as a SHA-256 digest
(`MessageType=DIGEST`). Pure: what is revoked, and which partition a certificate's CRL
distribution point names, are the caller's.

Choices that are not obvious (checked with pkilint's `lint_crl -t CRL -p PKIX`):
- Extensions: authorityKeyIdentifier (5.2.1, MUST) and cRLNumber (5.2.3, MUST), non-critical.
- reasonCode is omitted for `unspecified` (5.3.1: "the reason code extension SHOULD be absent
  instead of using the unspecified (0) reasonCode value") and for no reason at all.
  certificateHold is allowed (suspension, 효력정지); removeFromCRL is refused: it only exists in
  delta CRLs, and a restored certificate simply leaves the next full CRL.
- A partition CRL carries a critical issuingDistributionPoint (5.2.5) whose fullName is the URL
  the certificates of that partition name in their cRLDistributionPoints: relying parties
  (openssl among them) match the two, and a certificate whose partition is another CRL's is
  outside that CRL's scope. It also asserts onlyContainsUserCerts: the issuing CA (pathLen 0)
  issues end-entity certificates only, and 5.2.5 requires the flag when that is the scope. A CRL
  without it (no partitioning) covers everything the CA issued.
- Entries are sorted by serial so the same input always gives the same TBS; duplicate serials,
  revocations after thisUpdate, or entries outside RFC 5280's 20-octet serials are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fincert.crypto.keys import certificate_public_key
from fincert.crypto.x509_profile import authority_key_identifier

CrlSigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# RFC 5280 5.2.3: a CRL number is a non-negative INTEGER of at most 20 octets.
MAX_CRL_NUMBER = 2 ** (20 * 8 - 1) - 1
# RFC 5280 4.1.2.2 / 5.1.2.6: serials of at most 20 octets. Larger ones cannot have been issued
# by a conforming CA, so a CRL listing one is a caller's bug.
_MAX_SERIAL = 2 ** (20 * 8 - 1) - 1


@dataclass(frozen=True)
class RevokedEntry:
    serial_number: int
    revoked_at: datetime
    reason: x509.ReasonFlags | None = None


def _utc_second(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    # UTCTime/GeneralizedTime in CRLs carry whole seconds (RFC 5280 5.1.2.4-5.1.2.6).
    return value.astimezone(UTC).replace(microsecond=0)


def crl_number_at(this_update: datetime) -> int:
    """A CRL number that grows with time, without a counter to keep: thisUpdate in microseconds
    since the epoch (Boulder numbers its CRLs the same way). Two CRLs of one scope built in the
    same microsecond, or a clock stepping back, would break monotonicity: callers that may do
    either keep a counter instead (a conditional increment)."""
    if this_update.tzinfo is None or this_update.utcoffset() is None:
        raise ValueError("this_update must be a timezone-aware datetime")
    delta = this_update.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _entry(entry: RevokedEntry, this_update: datetime) -> x509.RevokedCertificate:
    serial = entry.serial_number
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 < serial <= _MAX_SERIAL:
        raise ValueError("revoked serial numbers must be positive and fit in 20 octets")
    revoked_at = _utc_second(entry.revoked_at, "revoked_at")
    if revoked_at > this_update:
        raise ValueError(f"serial {serial:#x} is revoked after this CRL's thisUpdate")
    builder = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
    reason = entry.reason
    if reason is not None and not isinstance(reason, x509.ReasonFlags):
        raise TypeError("reason must be an x509.ReasonFlags or None")
    if reason is x509.ReasonFlags.remove_from_crl:
        raise ValueError("removeFromCRL belongs to delta CRLs only")
    if reason is not None and reason is not x509.ReasonFlags.unspecified:
        builder = builder.add_extension(x509.CRLReason(reason), critical=False)
    return builder.build()


def _issuing_distribution_point(url: str) -> x509.IssuingDistributionPoint:
    if not url.startswith(("http://", "https://")):
        raise ValueError("the issuing distribution point must be an http(s) URL")
    return x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier(url)],
        relative_name=None,
        only_contains_user_certs=True,
        only_contains_ca_certs=False,
        only_some_reasons=None,
        indirect_crl=False,
        only_contains_attribute_certs=False,
    )


def _check_issuer(issuer_key: CrlSigningKey, issuer_certificate: x509.Certificate) -> None:
    # Refuse before anything reaches KMS: a wrong key id would yield a CRL nobody can verify.
    if issuer_key.public_key() != issuer_certificate.public_key():
        raise ValueError("the CA key does not match the CA certificate's public key")
    try:
        key_usage = issuer_certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not key_usage.crl_sign:
        # RFC 5280 4.2.1.3: a CRL signed by a key without cRLSign fails every validator.
        raise ValueError("the CA certificate does not assert cRLSign")


def build_crl(
    *,
    issuer_certificate: x509.Certificate,
    issuer_key: CrlSigningKey,
    crl_number: int,
    this_update: datetime,
    next_update: datetime,
    revoked: Iterable[RevokedEntry],
    issuing_distribution_point_url: str | None = None,
) -> bytes:
    """A DER v2 CRL signed with SHA-256 by `issuer_key` (the CA's own scheme: PKCS#1 v1.5 for
    RSA, ECDSA for P-256). `crl_number` must grow with every CRL of the same scope (partition);
    `issuing_distribution_point_url` makes it the CRL of one partition (see the module notes)."""
    if isinstance(crl_number, bool) or not isinstance(crl_number, int):
        raise TypeError("crl_number must be an int")
    if not 0 <= crl_number <= MAX_CRL_NUMBER:
        raise ValueError("crl_number must be non-negative and fit in 20 octets")
    this = _utc_second(this_update, "this_update")
    nxt = _utc_second(next_update, "next_update")
    if nxt <= this:
        raise ValueError("next_update must be after this_update")
    _check_issuer(issuer_key, issuer_certificate)

    entries = sorted((_entry(e, this) for e in revoked), key=lambda e: e.serial_number)
    for previous, current in pairwise(entries):
        if previous.serial_number == current.serial_number:
            raise ValueError(f"serial {current.serial_number:#x} is listed twice")

    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_certificate.subject)
        .last_update(this)
        .next_update(nxt)
        .add_extension(authority_key_identifier(issuer_certificate), critical=False)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
    )
    if issuing_distribution_point_url is not None:
        # RFC 5280 5.2.5: the extension is critical.
        builder = builder.add_extension(
            _issuing_distribution_point(issuing_distribution_point_url), critical=True
        )
    for entry in entries:
        builder = builder.add_revoked_certificate(entry)

    crl = builder.sign(private_key=issuer_key, algorithm=hashes.SHA256())
    # A KMS fault (or a digest signed the wrong way) must not publish a CRL every relying party
    # rejects, which hard-fail clients would treat as "status unknown" for every certificate.
    if not crl.is_signature_valid(certificate_public_key(issuer_certificate)):
        raise ValueError("the CA key produced a CRL signature that does not verify")
    return crl.public_bytes(serialization.Encoding.DER)
