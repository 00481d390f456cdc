"""Daily idle purge: an account with no cloud use for 365 KST calendar days is warned by SMS
30 days before (fincert.domain.schedule), then purged.

Any use sets the account's last_used_day and puts it back in the "idle" partition of `due`, which
postpones everything: the warning is conditioned on the entry the query saw, and the purge's
first transaction (ACCOUNT and PERSON deleted, the purge record written) on last_used_day and the
warned state being what the job read. A request racing the purge therefore either lands first and
keeps the account, or finds the ACCOUNT item gone and fails (every write under ACCT# requires it).

Then the rest of the account goes: every certificate not yet revoked is revoked
(cessationOfOperation) on its SERIAL record, which stays until its notAfter (TTL) so OCSP and the
CRL keep answering "revoked"; every item under ACCT#<account> (credentials with their wrapped
keys, registrations, devices, sessions, SADs, history) is deleted. The purge record (ids, dates,
revoked serials; no personal data) is kept RECORD_RETENTION (fincert.domain.retention). A purge interrupted after its first
transaction stays in `due` ("purging") and is finished by the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Protocol

from fincert.clock import kst_date
from fincert.domain.account_records import CredentialStatus, RevocationReason
from fincert.domain.history_records import SERVICE_ACTOR, HistoryEvent, history
from fincert.domain.job_records import DueEntry, IdleState, PurgeRecord
from fincert.domain.jobs import PlanTask
from fincert.domain.notices import customer_phone
from fincert.domain.retention import RECORD_RETENTION
from fincert.domain.schedule import IDLE_PERIOD, WARNING_NOTICE, may_purge, purge_day, warning_day
from fincert.domain.stores import DueEntries, IdlePurges
from fincert.errors import ConditionFailed, Conflict
from fincert.ports import Clock, KeyManagement, SmsSender
from fincert.settings import Settings

# The sort keys of history lines an account's partition may still hold from before audit
# entries had a partition of their own.
LEGACY_HISTORY_PREFIX = "HIST#"


class PurgeStorage(IdlePurges, DueEntries, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


WARN = "warn"
PURGE = "purge"
FINISH_PURGE = "finish_purge"
_DAY = timedelta(days=1)


class IdlePurgeJob:
    def __init__(
        self, *, store: PurgeStorage, kms: KeyManagement, sms: SmsSender, clock: Clock, settings: Settings
    ):
        self._store = store
        self._kms = kms
        self._sms = sms
        self._clock = clock
        self._settings = settings

    def tasks(self) -> list[PlanTask]:
        today = kst_date(self._clock.now())
        # due_sk starts with the last-use day: "before" bounds select the days old enough.
        warn_before = (today - (IDLE_PERIOD - WARNING_NOTICE) + _DAY).isoformat()
        purge_before = (today - IDLE_PERIOD + _DAY).isoformat()
        return (
            [PlanTask(WARN, p, warn_before) for p in self._store.due_partitions("idle")]
            + [PlanTask(PURGE, p, purge_before) for p in self._store.due_partitions("idle-warned")]
            # Purges a fault interrupted on an earlier day.
            + [PlanTask(FINISH_PURGE, "purging", today.isoformat())]
        )

    def handlers(self) -> Mapping[str, Callable[[DueEntry], str]]:
        return {WARN: self.warn, PURGE: self.purge, FINISH_PURGE: self.finish_purge}

    def _state(self, entry: DueEntry) -> tuple[date, IdleState | None]:
        day, account_id = entry.due_sk.split("#")
        state = self._store.get_idle_state(account_id)
        if state is None:
            return date.fromisoformat(day), None
        if (state.due_pk, state.due_sk) != (entry.due_pk, entry.due_sk):
            return date.fromisoformat(day), None  # used (or warned) since the query
        return date.fromisoformat(day), state

    def warn(self, entry: DueEntry) -> str:
        today = kst_date(self._clock.now())
        last_used, state = self._state(entry)
        if today < warning_day(last_used):
            return "not_due"
        if state is None:
            return "moved"
        phone = customer_phone(self._kms, self._settings, state.identity_ciphertext, state.person_index)
        if not self._store.mark_warned(entry, last_used, today):
            return "moved"
        deadline = max(purge_day(last_used), today + WARNING_NOTICE)
        try:
            self._sms.send_sms(
                phone,
                f"[fincert] 1년간 이용하지 않은 금융인증서와 클라우드 계정이 {deadline.isoformat()}에 "
                "삭제됩니다. 계속 쓰시려면 그 전에 한 번 이용하세요.",
            )
        except Exception:
            self._store.unmark_warned(entry, last_used)  # warned again by the next run
            raise
        return "warned"

    def purge(self, entry: DueEntry) -> str:
        now = self._clock.now()
        last_used, state = self._state(entry)
        if state is None:
            return "moved"
        if state.warned_on is None or not may_purge(last_used, state.warned_on, kst_date(now)):
            return "not_due"
        record = PurgeRecord(state.account_id, last_used, state.warned_on, now, now + RECORD_RETENTION)
        try:
            self._store.begin_purge(state, record)
        except ConditionFailed as e:
            if "account" in e.reasons:
                return "kept"  # used (or purged) since we read it
            raise Conflict("the purge could not begin", code="purge_conflict") from None
        return self._finish(state.account_id)

    def finish_purge(self, entry: DueEntry) -> str:
        return self._finish(entry.pk.removeprefix("PURGE#"))

    def _finish(self, account_id: str) -> str:
        now = self._clock.now()
        items = self._store.account_partition(account_id)
        unrevoked = {
            item.serial_number: item.not_after
            for item in items
            if item.sk.startswith("CRED#")
            and item.serial_number is not None
            and item.status != CredentialStatus.REVOKED.value
        }
        for serial, not_after in unrevoked.items():
            # Before the keys go: a key deleted while its certificate still said "good" would
            # leave nothing able to stand behind that certificate. Already revoked stays as it
            # was (its own time and reason); a record gone by TTL belongs to a certificate 5
            # years expired, which needs none. The audit entry is written with the revocation.
            self._store.revoke_for_purge(
                account_id,
                serial,
                now,
                history(
                    HistoryEvent.STATUS_CHANGED,
                    now,
                    SERVICE_ACTOR,
                    entry_id=f"{serial:x}"[:8] + "-purged",
                    certificate_not_after=not_after,
                    action="revoke",
                    reason=RevocationReason.CESSATION_OF_OPERATION.value,
                    serial=f"{serial:x}",
                    via="idle_purge",
                ),
            )
        if any(item.sk.startswith(LEGACY_HISTORY_PREFIX) for item in items):
            # History lines written before audit entries left the account's partition are audit
            # entries too: copied out before the partition goes, so the purge deletes no record.
            self._store.copy_legacy_history(account_id)
        self._store.delete_account_items(account_id, [item.sk for item in items])
        self._store.finish_purge(account_id, now, list(unrevoked), len(items))
        return "purged"
