"""The records the daily jobs (auto-renewal, idle purge) speak in: entries of the sparse `due`
index, and what the renewal and the purge read and write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from fincert.domain.account_records import Credential, RevocationReason
from fincert.domain.history_records import HistoryEntry, HistoryEvent, history


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

    @property
    def superseded_history(self) -> HistoryEntry:
        """The audit entry of the revocation this renewal makes (the old certificate, superseded)."""
        return history(
            HistoryEvent.STATUS_CHANGED,
            self.now,
            self.old.issued_by,
            self.old.credential_id,
            entry_id=self.new.credential_id.removeprefix("cred_")[:8] + "-revoked",
            certificate_not_after=self.old.not_after,
            action="revoke",
            reason=RevocationReason.SUPERSEDED.value,
            serial=format(self.old.serial_number, "x"),
            via="renewal",
        )

    @property
    def history(self) -> HistoryEntry:
        """The audit entry of this issuance (a renewal issues a certificate too), written in the
        renewal's transaction; its id derives from the new credential, as issuance's does."""
        return history(
            HistoryEvent.ISSUED,
            self.now,
            self.new.issued_by,
            self.new.credential_id,
            entry_id=self.new.credential_id.removeprefix("cred_")[:8],
            certificate_not_after=self.new.not_after,
            serial=format(self.new.serial_number, "x"),
            renewal="true",
            renewed_from=self.old.credential_id,
        )


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
    not_after: datetime | None = None  # a credential's, for its audit entry's retention
