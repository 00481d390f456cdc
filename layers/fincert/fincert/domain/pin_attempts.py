"""The PIN attempt protocol, owned by one object: reserve a slot -> verify -> accept or forgive.

Every attempt first reserves a slot with a conditional increment on the account, then asks KMS
to verify the PIN's MAC: parallel wrong PINs can never exceed the limit or lose a count. A
correct PIN then either writes what it unlocks together with forgiving the attempts up to its
own slot (never a later one: a wrong PIN racing it still counts), or, when that purpose cannot be
written (another request won a race, the certificate cannot sign), gives its slot back, so a
right PIN is never counted as a wrong one. A wrong PIN marks its slot as judged wrong.

When every slot the count allows is taken, the PIN is locked only if 5 of them were judged wrong
(or the latest was reserved so long ago that the unjudged ones were cut short, which count as
failures): otherwise attempts are still being judged, one of them may be the right PIN, and the
attempt is answered pin_attempt_in_flight (409, Retry-After) without a slot.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from fincert.domain.account_records import Account, PinSlot
from fincert.domain.history_records import HistoryEntry, HistoryEvent, history
from fincert.domain.metrics import NO_METRICS, PIN_FAILURES, PIN_LOCKS
from fincert.domain.pin import MAX_PIN_FAILURES, PIN_ATTEMPT_LIFETIME, check_pin_format, pin_matches
from fincert.domain.pin_unlocks import PinUnlock
from fincert.domain.stores import AccountReads, History, PinSlots
from fincert.errors import Forbidden, InvalidRequest, Locked, NotFound, PinAttemptInFlight, PinSlotRefused
from fincert.ports import Clock, KeyManagement, Metrics


class PinStorage(PinSlots, AccountReads, History, Protocol): ...


@dataclass(frozen=True)
class CorrectPin:
    """A PIN judged right, holding the attempt slot it reserved."""

    slot: PinSlot
    _slots: PinSlots

    @property
    def account(self) -> Account:
        """The account as the reservation read it."""
        return self.slot.account

    def accept(self, today: date, entry: HistoryEntry, unlock: PinUnlock) -> None:
        """Writes what the PIN unlocks and forgives the slot, in one transaction. Raises
        ConditionFailed when the PIN or the state the unlock depends on changed meanwhile; the
        caller then decides whether to forgive()."""
        entry = entry.concerning(self.account.certificate_not_after)
        self._slots.pin_accepted(self.slot, today, entry, unlock)

    def forgive(self) -> None:
        """Gives the slot back when the PIN's purpose could not be written."""
        with contextlib.suppress(Exception):  # at worst the slot stays counted as a failure
            self._slots.forgive_pin_attempt(self.slot)


class PinChecker:
    def __init__(
        self,
        *,
        store: PinStorage,
        kms: KeyManagement,
        hmac_key_id: str,
        clock: Clock,
        metrics: Metrics = NO_METRICS,
    ):
        self._store = store
        self._kms = kms
        self._hmac_key_id = hmac_key_id
        self._clock = clock
        self._metrics = metrics

    def check(
        self,
        account_id: str,
        pin: str,
        institution_id: str,
        *,
        credential_id: str | None = None,
        registered_only: bool = True,
        to_sign: bool = False,
    ) -> CorrectPin:
        """Reserves an attempt and verifies the PIN. Raises before any write for a malformed PIN,
        a credential that is not the account's active one, an institution the certificate is not
        registered with, or (to_sign) no certificate able to sign; Locked once MAX_PIN_FAILURES
        wrong PINs are judged; PinAttemptInFlight when the slots are all taken by attempts not
        judged yet. A wrong PIN keeps its slot (a failure), marked judged wrong, and is written
        to the history."""
        check_pin_format(pin)
        now = self._clock.now()
        try:
            slot = self._store.reserve_pin_attempt(
                account_id,
                now,
                credential_id=credential_id,
                institution_id=institution_id if registered_only else None,
                to_sign=to_sign,
            )
        except PinSlotRefused as e:
            raise self._refusal(
                e.account, credential_id, institution_id, registered_only, to_sign, now
            ) from None
        account = slot.account
        if pin_matches(self._kms, self._hmac_key_id, account.person_index, pin, account.pin_verifier):
            return CorrectPin(slot, self._store)
        judged = self._store.pin_judged_wrong(slot)
        # None: a correct PIN forgave this slot meanwhile (or the PIN was replaced); it is no
        # failure, and the count is read again for the answer (rare: only in such a race).
        current = judged or self._store.get_account(account_id)
        locked = judged is not None and judged.pin_judged_failures >= MAX_PIN_FAILURES
        # What is left counts attempts still being judged as failures: the most that is sure.
        remaining = max(MAX_PIN_FAILURES - current.pin_failures, 0) if current else 0
        self._store.put_history(
            account_id,
            history(
                HistoryEvent.AUTHORIZATION_FAILED,
                self._clock.now(),
                institution_id,
                credential_id,
                certificate_not_after=account.certificate_not_after,
                reason="pin_invalid",
            ),
        )
        self._metrics.count(PIN_FAILURES)
        if locked:
            self._metrics.count(PIN_LOCKS)
            raise Locked("wrong PIN; the PIN is now locked, reset it through your bank")
        raise InvalidRequest("the PIN is wrong", code="pin_invalid", remaining_attempts=remaining)

    @staticmethod
    def _refusal(
        account: Account | None,
        credential_id: str | None,
        institution_id: str,
        registered_only: bool,
        to_sign: bool,
        now: datetime,
    ) -> Exception:
        if account is None:
            return NotFound("no such account", code="account_not_found")
        if credential_id is not None and account.active_credential_id != credential_id:
            return NotFound("no such credential", code="credential_not_found")
        if registered_only and institution_id not in account.institutions:
            # Before the certificate's state: an institution it is not registered with learns
            # nothing of it.
            return Forbidden(
                "the certificate is not registered with this institution", code="institution_not_registered"
            )
        if to_sign and account.active_credential_id is None:
            return NotFound("this customer has no financial certificate", code="certificate_not_found")
        if to_sign and account.credential_suspended:
            return Forbidden("the certificate is suspended", code="credential_not_active")
        # Every slot is taken (the one condition left).
        cut_short = account.pin_reserved_at is None or now - account.pin_reserved_at > PIN_ATTEMPT_LIFETIME
        if account.pin_judged_failures >= MAX_PIN_FAILURES or cut_short:
            return Locked()
        return PinAttemptInFlight()
