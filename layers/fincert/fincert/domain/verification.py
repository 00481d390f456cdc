"""The verify call of the bank API: a relying party's back end sends what it received from
`POST /v1/signatures` and asks whether it is valid.

"Valid" means all of: the signature value and digests hold over the content (fincert.crypto
.cms_verify), the certificate was issued by our issuing CA to a subscriber, the signing time (if
signed) falls inside the certificate's validity, and the certificate was good at `valid_at`:
issued, not revoked, not suspended, not expired. The status is read from the same SERIAL record
OCSP answers from (strongly consistent), so the verify call and OCSP never disagree.

`valid_at` is the signature's time-stamp when it carries a good one (a CMS signer's
signatureTimeStampToken, CAdES-T, or for a raw signature the token sent beside it), otherwise
now. So a transfer signed on Monday and timestamped stays valid when the customer revokes a lost
phone on Tuesday (certificate_status still says revoked, now), and a certificate revoked before
the timestamp makes it invalid. A token that does not match the signature, or that our TSA did
not sign, makes the signature invalid (timestamp_* reasons), never silently "judged now".

After notAfter a SERIAL record lives only until the table's TTL removes it: a timestamped
signature of an expired certificate is judged from the record while it exists, and answers
certificate_status_unavailable once it is gone (keeping serial records 5 years past notAfter,
the records rule of docs/design.md, is what closes this).

An invalid signature is an answer (200, valid false, with stable reason codes); only input we
cannot judge at all is a 400. Verifying reads one item and writes nothing: it is not the
customer's use of their certificate, so it is neither in their history nor their last use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from cryptography import x509

from fincert.crypto.cms_verify import (
    SignatureCheck,
    SignatureMalformed,
    chain_problems,
    check_timestamp_token,
    decode_base64,
    load_certificate,
    verify_cms,
    verify_raw,
)
from fincert.domain.access import require_institution
from fincert.domain.institution_records import Principal
from fincert.domain.sign_requests import ContentKind, SignatureFormat, SignContent
from fincert.domain.status_records import SerialRecord, SerialStatus
from fincert.domain.stores import SerialStatuses
from fincert.errors import InvalidRequest
from fincert.ports import Clock

if TYPE_CHECKING:
    from fincert.domain.ca import CertificateAuthority


class CertificateStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    SUSPENDED = "suspended"  # 효력정지: certificateHold, may be restored
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # not ours, or no record (never issued, or long expired)


@dataclass(frozen=True)
class VerificationResult:
    valid: bool
    signature_valid: bool
    chain_valid: bool
    certificate_status: CertificateStatus
    reasons: tuple[str, ...]
    serial: str  # lowercase hex, as OCSP and the CRLs name it
    not_before: datetime
    not_after: datetime
    signing_time: datetime | None
    revoked_at: datetime | None
    revocation_reason: str | None
    checked_at: datetime
    # The instant the certificate was judged at: the time-stamp's genTime, or checked_at.
    valid_at: datetime
    timestamp_serial: str | None  # lowercase hex, of a good signature time-stamp token


class VerificationService:
    def __init__(
        self,
        *,
        store: SerialStatuses,
        clock: Clock,
        certificate_authority: Callable[[], CertificateAuthority],
        policy_oid: str,
        tsa_certificates: Callable[[], Sequence[x509.Certificate]] = tuple,
    ):
        self._store = store
        self._clock = clock
        self._certificate_authority = certificate_authority
        self._policy_oid = policy_oid
        # The TSA's certificate for tokens that do not carry it (asked only then).
        self._tsa_certificates = tsa_certificates

    def verify(
        self,
        principal: Principal,
        signature_b64: str,
        signature_format: SignatureFormat,
        content: SignContent | None,
        certificate_pem: str | None,
        timestamp_token_b64: str | None = None,
    ) -> VerificationResult:
        """`content` is what the relying party holds of what was signed: the text, the bytes, or
        only their SHA-256 (enough for a detached CMS, whose messageDigest attribute is compared
        with it, and for a raw signature, which signs the digest). `timestamp_token_b64`: a raw
        signature's time-stamp token (base64 DER), as the signing call returned it beside it."""
        # A relying party's back end asks, with its API key; a customer's page has no business here.
        require_institution(principal)
        try:
            check = self._check_signature(signature_b64, signature_format, content, certificate_pem)
            token = self._token(check, timestamp_token_b64)
        except SignatureMalformed as e:
            raise InvalidRequest(e.message, code=e.code) from None
        now = self._clock.now()
        certificate = check.certificate
        reasons = list(check.problems)
        issuing = self._certificate_authority().issuing_certificate
        chain = chain_problems(certificate, issuing, self._policy_oid)
        reasons += chain
        valid_at, timestamp_serial = now, None
        if token is not None:
            stamped = check_timestamp_token(token, check.signature_value, self._tsa_certificates, issuing)
            reasons += stamped.problems
            if not stamped.problems and stamped.gen_time is not None:
                valid_at, timestamp_serial = stamped.gen_time, stamped.serial
        status, revoked_at, revocation_reason = CertificateStatus.UNKNOWN, None, None
        record = None
        if not chain:
            # Only a certificate of ours: another CA's serial could collide with one of our records.
            record = self._store.get_serial_status(certificate.serial_number)
            status, revoked_at, revocation_reason = _status(record, certificate, now)
        if timestamp_serial is None:
            reasons += _status_reasons(status)
        elif not chain:
            reasons += _status_reasons_at(record, certificate, valid_at, now)
        reasons += _validity_reasons(certificate, valid_at, check.signing_time)
        return VerificationResult(
            valid=not reasons,
            signature_valid=check.valid,
            chain_valid=not chain,
            certificate_status=status,
            reasons=tuple(dict.fromkeys(reasons)),
            serial=format(certificate.serial_number, "x"),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            signing_time=check.signing_time,
            revoked_at=revoked_at,
            revocation_reason=revocation_reason,
            checked_at=now,
            valid_at=valid_at,
            timestamp_serial=format(timestamp_serial, "x") if timestamp_serial is not None else None,
        )

    @staticmethod
    def _token(check: SignatureCheck, token_b64: str | None) -> bytes | None:
        if token_b64 is None:
            return check.timestamp_token
        if check.timestamp_token is not None:
            raise SignatureMalformed(
                "timestamp_conflict", "the CMS carries its own timestamp: send no timestamp_token beside it"
            )
        return decode_base64(token_b64, code="malformed_timestamp", what="the timestamp token")

    @staticmethod
    def _check_signature(
        signature_b64: str,
        signature_format: SignatureFormat,
        content: SignContent | None,
        certificate_pem: str | None,
    ) -> SignatureCheck:
        signature = decode_base64(signature_b64, code="malformed_signature", what="the signature")
        data = digest = None
        if content is not None and content.kind is ContentKind.HASH:
            digest = content.data
        elif content is not None:
            data = content.data
        if signature_format == SignatureFormat.RAW:
            if content is None:
                raise SignatureMalformed("content_required", "a raw signature needs the content it signs")
            if not certificate_pem:
                raise SignatureMalformed("certificate_required", "a raw signature needs certificate_pem")
            return verify_raw(signature, load_certificate(certificate_pem), content.sha256)
        if content is None and signature_format == SignatureFormat.CMS_DETACHED:
            # Refused before parsing: the same answer whatever the signature bytes are.
            raise SignatureMalformed("content_required", "a detached signature needs the content it signs")
        return verify_cms(
            signature, data, detached=signature_format == SignatureFormat.CMS_DETACHED, content_sha256=digest
        )


def _status(
    record: SerialRecord | None, certificate: x509.Certificate, now: datetime
) -> tuple[CertificateStatus, datetime | None, str | None]:
    """The certificate's status now, in OCSP's words."""
    if record is not None and record.status is SerialStatus.REVOKED:
        return CertificateStatus.REVOKED, record.revoked_at, record.revocation_reason
    if record is not None and record.status is SerialStatus.SUSPENDED:
        return CertificateStatus.SUSPENDED, record.revoked_at, "certificateHold"
    # Past notAfter the record may already be gone (TTL): expired says more than unknown.
    if certificate.not_valid_after_utc < now:
        return CertificateStatus.EXPIRED, None, None
    if record is None:
        return CertificateStatus.UNKNOWN, None, None
    # issued, or presigned: the CA signed it and issuance is committing (OCSP says good too).
    return CertificateStatus.GOOD, None, None


def _status_reasons(status: CertificateStatus) -> list[str]:
    if status is CertificateStatus.GOOD:
        return []
    if status is CertificateStatus.UNKNOWN:
        return ["certificate_status_unknown"]
    return [f"certificate_{status.value}"]


def _status_reasons_at(
    record: SerialRecord | None, certificate: x509.Certificate, at: datetime, now: datetime
) -> list[str]:
    """What was wrong with the certificate at the time-stamp `at` (expiry after it is fine)."""
    if at > certificate.not_valid_after_utc:
        # Stamped after notAfter: the signature was made, or stamped, too late.
        return ["certificate_expired"]
    if record is not None and record.status in (SerialStatus.REVOKED, SerialStatus.SUSPENDED):
        # No revocation time on record: it cannot be placed after the time-stamp.
        if record.revoked_at is None or record.revoked_at <= at:
            return [
                "certificate_revoked" if record.status is SerialStatus.REVOKED else "certificate_suspended"
            ]
        return []
    if record is None:
        # Past notAfter the record is gone once the TTL runs: whether it was revoked before the
        # time-stamp can no longer be told.
        if certificate.not_valid_after_utc < now:
            return ["certificate_status_unavailable"]
        return ["certificate_status_unknown"]
    return []


def _validity_reasons(
    certificate: x509.Certificate, at: datetime, signing_time: datetime | None
) -> list[str]:
    """`at`: now, or the signature's time-stamp (a certificate expired since then is fine)."""
    reasons = []
    if at < certificate.not_valid_before_utc:
        reasons.append("certificate_not_yet_valid")
    if signing_time is not None and not (
        certificate.not_valid_before_utc <= signing_time <= certificate.not_valid_after_utc
    ):
        # The signer claims a time the certificate did not cover: a backdated or stale signature.
        reasons.append("signing_time_outside_validity")
    return reasons
