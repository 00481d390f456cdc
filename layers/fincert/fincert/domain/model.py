"""The records the domain works with. Plain data: the DynamoDB adapter maps them to items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Scope(StrEnum):
    """What an institution's API key may do."""

    ENROLL = "enroll"


@dataclass(frozen=True)
class Institution:
    institution_id: str
    name: str
    api_key_hash: str
    scopes: frozenset[str]
    allowed_origins: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the authorizer resolved it."""

    institution_id: str
    scopes: frozenset[str]


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


class CredentialStatus(StrEnum):
    ACTIVE = "active"
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
    pin_failures: int = 0
    active_credential_id: str | None = None
    active_serial: int | None = None


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


# --- scheduled jobs: auto-renewal and idle purge ------------------------------------------------
@dataclass(frozen=True)
class DueEntry:
    """One entry of the sparse `due` index (KEYS_ONLY): what a job must act on."""

    due_pk: str
    due_sk: str
    pk: str
    sk: str


@dataclass(frozen=True)
class DuePage:
    entries: list[DueEntry]
    next_key: dict[str, str] | None  # where the next page starts; None: no more


@dataclass(frozen=True)
class RenewalCommit:
    """The renewal transaction: `new` stored and made the account's active credential, `old`
    superseded, on condition that `old` is still the active one (a reissue may have won)."""

    old: Credential
    new: Credential
    now: datetime


@dataclass(frozen=True)
class IdleState:
    """What the idle purge reads of an ACCOUNT item."""

    account_id: str
    person_index: str
    identity_ciphertext: bytes
    last_used_day: date | None
    due_pk: str | None
    due_sk: str | None
    warned_on: date | None


@dataclass(frozen=True)
class PurgeRecord:
    """The audit record a purge leaves: ids, dates and serials, no personal data."""

    account_id: str
    last_used_day: date
    warned_on: date
    purged_at: datetime
    retain_until: datetime


@dataclass(frozen=True)
class PartitionItem:
    """One item under ACCT#<account>, as much as the purge needs to know of it."""

    sk: str
    status: str | None = None
    serial_number: int | None = None
