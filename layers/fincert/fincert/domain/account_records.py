"""The account (PIN counters, registrations, devices) and its credentials (certificate + wrapped key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

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
class PinSlot:
    """One reserved PIN attempt: the account as it is after the reservation. `slot` is the
    attempt's number; a correct PIN forgives every attempt up to it (and no later one)."""

    account: Account
    slot: int
