"""The records the domain works with. Plain data: the DynamoDB adapter maps them to items."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal


class Scope(StrEnum):
    """What an institution's API key may do."""

    ENROLL = "enroll"  # enrollment and issuance
    CONNECT = "connect"  # cloud connection, device connection, PIN reset for its customers


@dataclass(frozen=True)
class Institution:
    institution_id: str
    name: str
    api_key_hash: str
    scopes: frozenset[str]
    allowed_origins: tuple[str, ...] = ()
    active: bool = True
    # Hosted-only: no route that takes a PIN or an SMS code serves this institution's own calls;
    # its customers type them in the service's window only (docs/hosted-window.md).
    hosted_only: bool = False
    # A rotated-out key keeps working until this instant (fincert.domain.institutions.rotate_api_key).
    previous_api_key_hash: str | None = None
    previous_key_valid_until: datetime | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the authorizer resolved it: an institution's back end (API key), a
    customer through one institution (a session token: account_id and session_id set), or the
    service's own window acting for one UI ticket of an institution (window_ticket_id set)."""

    institution_id: str
    scopes: frozenset[str]
    account_id: str | None = None
    session_id: str | None = None
    allowed_origins: tuple[str, ...] = ()
    hosted_only: bool = False
    window_ticket_id: str | None = None

    @property
    def is_customer(self) -> bool:
        return self.account_id is not None


@dataclass(frozen=True)
class CertificateAuthorityRecord:
    root_key_id: str
    issuing_key_id: str
    root_certificate_der: bytes
    issuing_certificate_der: bytes
    created_at: datetime


class EnrollmentStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Enrollment:
    enrollment_id: str
    institution_id: str
    person_index: str
    phone_index: str
    account_id: str | None  # the person's account when the enrollment started, if any
    identity_ciphertext: bytes  # name, phone, birth date; context: the person index
    challenge_ciphertext: bytes  # SMS code, name, birth date; context: this enrollment
    key_algorithm: str
    auto_renew: bool
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    status: EnrollmentStatus = EnrollmentStatus.PENDING
    lease_until: datetime | None = None
    credential_id: str | None = None
    confirmed_account_id: str | None = None
    pin_verifier_digest: str | None = None


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` events per `scope` and `subject` in one window starting at `window_start`."""

    scope: str
    subject: str
    window_start: datetime
    window_seconds: int
    limit: int


# What customers and relying parties are told of a certificate.
CertificateState = Literal["valid", "suspended", "revoked", "expired"]


class CredentialStatus(StrEnum):
    ACTIVE = "active"  # also after a restore (효력회복)
    SUSPENDED = "suspended"  # 효력정지: signs nothing until restored
    REVOKED = "revoked"


class RevocationReason(StrEnum):
    """RFC 5280 5.3.1 CRLReason names."""

    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    KEY_COMPROMISE = "keyCompromise"
    UNSPECIFIED = "unspecified"


@dataclass(frozen=True)
class Account:
    account_id: str
    person_index: str
    holder_suffix: str
    identity_ciphertext: bytes
    pin_verifier: str
    created_at: datetime
    active_credential_id: str | None = None
    active_serial: int | None = None
    # PIN attempts: every attempt reserves the next slot (pin_attempts); a correct PIN forgives
    # all attempts up to its own slot (pin_cleared). Failures = the difference; 5 lock the PIN.
    pin_attempts: int = 0
    pin_cleared: int = 0
    # The slots whose PIN was judged wrong (only those past pin_cleared count), and when the
    # latest slot was reserved: a full count is a lock only once its attempts are judged wrong or
    # could no longer be running (fincert.domain.pin_attempts).
    pin_wrong_slots: frozenset[int] = frozenset()
    pin_reserved_at: datetime | None = None
    institutions: frozenset[str] = frozenset()  # where the certificate may be used (타기관 등록)
    device_count: int = 0
    last_used_day: str | None = None  # KST, YYYY-MM-DD
    # Mirrors the active credential's suspension, so a PIN attempt to sign with it is refused
    # before it takes a slot (fincert.domain.status_changes).
    credential_suspended: bool = False
    # The notAfter of the account's latest certificate (kept after a revocation): audit entries
    # about the account are kept 5 years past it (fincert.domain.retention).
    certificate_not_after: datetime | None = None

    @property
    def pin_failures(self) -> int:
        """Attempts not forgiven: judged wrong, still being judged, or cut short by a fault."""
        return max(self.pin_attempts - self.pin_cleared, 0)

    @property
    def pin_judged_failures(self) -> int:
        """The attempts among pin_failures whose PIN was judged wrong."""
        return sum(1 for slot in self.pin_wrong_slots if slot > self.pin_cleared)


@dataclass(frozen=True)
class Credential:
    credential_id: str
    account_id: str
    serial_number: int
    key_algorithm: str
    certificate_der: bytes
    wrapped_private_key: bytes
    not_before: datetime
    not_after: datetime
    issued_by: str
    auto_renew: bool
    created_at: datetime
    status: CredentialStatus = CredentialStatus.ACTIVE
    status_changed_at: datetime | None = None  # the last suspend, restore or revoke

    def state(self, now: datetime) -> CertificateState:
        """What customers and relying parties are told: valid, suspended, revoked or expired."""
        if self.status is CredentialStatus.REVOKED:
            return "revoked"
        if self.status is CredentialStatus.SUSPENDED:
            return "suspended"
        if (
            now > self.not_after
        ):  # notAfter is the last valid second (RFC 5280 4.1.2.5), as in schedule.is_expired
            return "expired"
        return "valid"


@dataclass(frozen=True)
class PreSigningRecord:
    """Written before the CA signs, so a certificate signed but never stored can be found and
    revoked (Boulder's "precertificate" lesson). Holds hashes, not the subject's personal data."""

    serial_number: int
    credential_id: str
    account_id: str
    tbs_sha256: str
    not_after: datetime
    created_at: datetime


@dataclass(frozen=True)
class IssuanceCommit:
    """Everything the final issuance transaction writes, all or nothing. With `previous` set the
    account exists: its active certificate (if any) is revoked as superseded, on condition that
    it is still the active one, so concurrent issuances leave exactly one active certificate."""

    enrollment: Enrollment
    lease_until: datetime
    credential: Credential
    account: Account  # the account as it is after this issuance
    previous: Account | None  # the account as read before; None: this issuance creates it
    pin_verifier_digest: str
    now: datetime

    @property
    def superseded_history(self) -> HistoryEntry | None:
        """The audit entry of the revocation this reissue makes (the previous certificate,
        superseded), written in the same transaction; None when there was none."""
        previous = self.previous
        if previous is None or previous.active_credential_id is None or previous.active_serial is None:
            return None
        return history(
            HistoryEvent.STATUS_CHANGED,
            self.now,
            self.credential.issued_by,
            previous.active_credential_id,
            entry_id=self.credential.credential_id.removeprefix("cred_")[:8] + "-revoked",
            certificate_not_after=previous.certificate_not_after,
            action="revoke",
            reason=RevocationReason.SUPERSEDED.value,
            serial=format(previous.active_serial, "x"),
            via="reissue",
        )

    @property
    def history(self) -> HistoryEntry:
        """The customer's history line for this issuance. Its id derives from the credential, so
        a retried commit writes the very same line."""
        c = self.credential
        return history(
            HistoryEvent.ISSUED,
            self.now,
            c.issued_by,
            c.credential_id,
            entry_id=c.credential_id.removeprefix("cred_")[:8],
            certificate_not_after=c.not_after,
            serial=format(c.serial_number, "x"),
            reissue=str(self.previous is not None).lower(),
        )


# --- issue 3: customer sessions, PIN use, signing, devices, history ------------------------------


class VerificationPurpose(StrEnum):
    """What an SMS re-verification of a customer is for."""

    CONNECT = "connect"  # cloud connection: name + phone + birth date + SMS code -> session
    PIN_RESET = "pin_reset"  # the institution re-verifies the customer, who sets a new PIN
    STATUS_CHANGE = "status_change"  # ... who suspends, restores or revokes the certificate


@dataclass(frozen=True)
class Verification:
    """A pending SMS challenge. account_id is None when the identity matched no account: the
    caller cannot tell (no account enumeration), only a correct code reveals it."""

    verification_id: str
    purpose: VerificationPurpose
    institution_id: str
    account_id: str | None
    challenge_ciphertext: bytes  # the code and the birth date; context: this verification
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    used: bool = False
    # The token of the attempt this copy counted (a claim), so that giving it back is done once.
    claim: str | None = None


@dataclass(frozen=True)
class Session:
    """A customer's connection through one institution. The token's secret is stored only as a
    hash; the token names the account and the session so the authorizer needs one GetItem."""

    session_id: str
    account_id: str
    institution_id: str
    secret_hash: str
    created_at: datetime
    expires_at: datetime
    via: str  # "sms" or "device"
    # The institution's origins and hosted-only setting are read with the session, not kept in
    # it (sessions written before carry them; nothing reads them).
    device_id: str | None = None


@dataclass(frozen=True)
class PinSlot:
    """One reserved PIN attempt: the account as it is after the reservation. `slot` is the
    attempt's number; a correct PIN forgives every attempt up to it (and no later one)."""

    account: Account
    slot: int


@dataclass(frozen=True)
class SignatureActivation:
    """A SAD (CSC "signature activation data"): authorises `remaining` signatures with one
    credential, through one institution, for a few minutes, optionally for exact hashes only."""

    sad_id: str
    account_id: str
    credential_id: str
    institution_id: str
    secret_hash: str
    hashes: frozenset[str]  # base64 of the digests it may sign; empty: any
    remaining: int
    expires_at: datetime


@dataclass(frozen=True)
class Device:
    device_id: str
    account_id: str
    name: str
    public_key_der: bytes  # P-256 SubjectPublicKeyInfo
    created_at: datetime
    last_used_at: datetime | None = None
    # SHA-256 (hex) of the key's canonical SPKI (uncompressed point): one key, one fingerprint,
    # however the client encoded it. Empty for devices registered before it was recorded.
    key_fingerprint: str = ""


@dataclass(frozen=True)
class DeviceChallenge:
    challenge_id: str
    account_id: str
    device_id: str
    institution_id: str
    nonce: bytes
    expires_at: datetime
    used: bool = False

    def message(self) -> bytes:
        """What the device signs: domain-separated, naming the institution and the challenge."""
        return f"fincert-device-connect-v1|{self.institution_id}|{self.challenge_id}|".encode() + self.nonce


# The institution of audit entries about what the service does on its own (the idle purge's
# revocations): no institution id can be this (fincert.domain.institutions), so no bank lists them.
SERVICE_ACTOR = "_service"


class HistoryEvent(StrEnum):
    ISSUED = "issued"
    CONNECTED = "connected"
    CONNECTION_FAILED = "connection_failed"  # a wrong SMS code or device signature at connection
    VERIFICATION_FAILED = "verification_failed"  # a wrong SMS code at a PIN reset or status change
    AUTHORIZED = "authorized"
    AUTHORIZATION_FAILED = "authorization_failed"
    SIGNED = "signed"
    DEVICE_REGISTERED = "device_registered"
    DEVICE_REMOVED = "device_removed"
    INSTITUTION_REGISTERED = "institution_registered"
    PIN_CHANGED = "pin_changed"
    PIN_RESET = "pin_reset"
    STATUS_CHANGED = "status_changed"


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the customer's usage history: ids, hashes and outcomes, no personal data."""

    event: HistoryEvent
    at: datetime
    institution_id: str
    credential_id: str | None = None
    detail: dict[str, str] | None = None  # e.g. sign_type, hash (hex), reason code
    entry_id: str = ""
    # The end of the certificate the event concerns, when known: the entry, an audit record, is
    # kept 5 years past the later of it and the event (fincert.domain.retention).
    certificate_not_after: datetime | None = None

    def concerning(self, not_after: datetime | None) -> HistoryEntry:
        """This entry, kept from the end of the certificate ending at `not_after` unless it
        already names one."""
        if self.certificate_not_after is not None or not_after is None:
            return self
        return replace(self, certificate_not_after=not_after)


def history(
    event: HistoryEvent,
    at: datetime,
    institution_id: str,
    credential_id: str | None = None,
    *,
    entry_id: str | None = None,
    certificate_not_after: datetime | None = None,
    **detail: str,
) -> HistoryEntry:
    """The one way a history line is made. `entry_id` tells apart lines of one millisecond;
    random unless the caller needs a retry to write the very same line."""
    return HistoryEntry(
        event=event,
        at=at,
        institution_id=institution_id,
        credential_id=credential_id,
        detail=detail or None,
        entry_id=entry_id or secrets.token_hex(4),
        certificate_not_after=certificate_not_after,
    )


# --- revocation status (OCSP and CRLs) -------------------------------------------------------


class SerialStatus(StrEnum):
    """The SERIAL#<hex> record's status, what OCSP and the CRLs answer from."""

    PRESIGNED = "presigned"  # the CA is signing (or signed) it; issuance has not stored it yet
    ISSUED = "issued"
    REVOKED = "revoked"
    SUSPENDED = "suspended"  # 효력정지: OCSP "revoked" with certificateHold, on the CRL as such


@dataclass(frozen=True)
class SerialRecord:
    serial_number: int
    status: SerialStatus
    revoked_at: datetime | None = None
    revocation_reason: str | None = None  # an RFC 5280 CRLReason name, e.g. "superseded"


@dataclass(frozen=True)
class OcspResponderRecord:
    """The delegated OCSP responder: its certificate (issued by the issuing CA) and its private
    key wrapped under the key-wrap key with the context fincert.domain.revocation_status
    .responder_key_context names."""

    certificate_der: bytes
    wrapped_private_key: bytes
    serial_number: int
    not_after: datetime
    created_at: datetime


# --- certificate status changes -----------------------------------------------------------------
# RFC 5280 5.3.1 reasons a subscriber may give (the API's schema lists these too).
# certificateHold is what a suspension says; removeFromCRL only appears in delta CRLs; the CA and
# AA compromise reasons are not the subscriber's to state.
SUBSCRIBER_REVOCATION_REASONS = (
    "unspecified",
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
)


class StatusAction(StrEnum):
    SUSPEND = "suspend"  # 효력정지
    RESTORE = "restore"  # 효력회복
    REVOKE = "revoke"  # 폐기


@dataclass(frozen=True)
class StatusChange:
    """One change of a credential's status, as the customer asked for it through an institution.
    `reason` is the RFC 5280 CRLReason name recorded: certificateHold for a suspension, the
    customer's reason for a revocation, None for a restore."""

    account_id: str
    credential_id: str
    serial_number: int
    action: StatusAction
    reason: str | None
    at: datetime
    institution_id: str


@dataclass(frozen=True)
class StatusTransition:
    """What one status action starts from and leads to, for the credential and its serial."""

    credential_from: tuple[CredentialStatus, ...]
    credential_to: CredentialStatus
    serial_from: tuple[SerialStatus, ...]
    serial_to: SerialStatus


# The one transition table: the use case checks a request against it, the store conditions its
# writes on it (so two racing changes cannot both win).
STATUS_TRANSITIONS = {
    StatusAction.SUSPEND: StatusTransition(
        (CredentialStatus.ACTIVE,), CredentialStatus.SUSPENDED, (SerialStatus.ISSUED,), SerialStatus.SUSPENDED
    ),
    StatusAction.RESTORE: StatusTransition(
        (CredentialStatus.SUSPENDED,), CredentialStatus.ACTIVE, (SerialStatus.SUSPENDED,), SerialStatus.ISSUED
    ),
    StatusAction.REVOKE: StatusTransition(
        (CredentialStatus.ACTIVE, CredentialStatus.SUSPENDED),
        CredentialStatus.REVOKED,
        (SerialStatus.ISSUED, SerialStatus.SUSPENDED),
        SerialStatus.REVOKED,
    ),
}


# --- what a correct PIN unlocks (written in the same transaction that accepts the PIN) ----------
@dataclass(frozen=True)
class GrantActivation:
    """CSC credentials/authorize: a SAD for this many signatures."""

    activation: SignatureActivation


@dataclass(frozen=True)
class RegisterInstitution:
    """타기관 등록: the certificate becomes usable at this institution."""

    institution_id: str


@dataclass(frozen=True)
class ReplacePin:
    """A PIN change: the new verifier, with a fresh attempt counter."""

    pin_verifier: str


@dataclass(frozen=True)
class ApplyStatusChange:
    """A suspension or revocation the customer asked for with the PIN."""

    change: StatusChange


@dataclass(frozen=True)
class TimestampAuthorityRecord:
    """The time-stamping authority: its KMS key and the certificate the issuing CA gave it."""

    key_id: str
    certificate_der: bytes
    serial_number: int
    not_after: datetime
    created_at: datetime


@dataclass(frozen=True)
class TimestampRecord:
    """What the time-stamping authority's ledger keeps of a token (fincert.domain.timestamping):
    no personal data, only ids, hashes and times."""

    serial_number: int
    hash_algorithm: str
    imprint: bytes
    gen_time: datetime
    institution_id: str
    caller: str  # "institution" | "customer"
    expires_at: datetime


@dataclass(frozen=True)
class ReleaseSignature:
    """A FinCert signature already made: returned only if this credential is still the active,
    unsuspended one when the acceptance commits (a suspension racing the signature wins). Its
    time-stamp tokens are recorded in the same commit (fincert.domain.timestamping): a token is
    on record exactly when it is returned."""

    credential_id: str
    timestamps: tuple[TimestampRecord, ...] = ()


PinUnlock = GrantActivation | RegisterInstitution | ReplacePin | ApplyStatusChange | ReleaseSignature
