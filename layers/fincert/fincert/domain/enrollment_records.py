"""Enrollment and issuance: the pending enrollment, the pre-signing record and the commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from fincert.domain.account_records import RevocationReason
from fincert.domain.history_records import HistoryEntry, HistoryEvent, history

if TYPE_CHECKING:
    from fincert.domain.account_records import Account, Credential


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
