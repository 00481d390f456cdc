"""Accounts: the person index, the ACCOUNT item with its PIN attempt slots, what a correct PIN unlocks, PIN resets and status changes the institution verified."""

from __future__ import annotations

import contextlib
import secrets
from datetime import date, datetime
from typing import Any

from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    PIN_COUNTERS_RESET_ASSIGNMENTS,
    PIN_COUNTERS_RESET_REMOVALS,
    PIN_RESERVATION_TOKENS,
    SharedItems,
    activation_item,
    last_use_assignments,
    pin_counters_reset_values,
    timestamp_item,
    to_account,
    to_credential,
)
from fincert.adapters.dynamodb.table import (
    attribute_values,
    iso,
    load_item,
)
from fincert.domain.account_records import Account, Credential, PinSlot
from fincert.domain.history_records import HistoryEntry
from fincert.domain.pin import MAX_PIN_FAILURES
from fincert.domain.pin_unlocks import (
    ApplyStatusChange,
    GrantActivation,
    PinUnlock,
    RegisterInstitution,
    ReleaseSignature,
    ReplacePin,
)
from fincert.domain.status_records import StatusChange
from fincert.errors import ConditionFailed, PinSlotRefused


class AccountTable(SharedItems):
    def find_account_id(self, person_index: str) -> str | None:
        item = self._get(keys.person(person_index))
        return item["account_id"] if item else None

    def get_account(self, account_id: str) -> Account | None:
        item = self._get(keys.account(account_id))
        return to_account(account_id, item) if item else None

    def get_credential(self, account_id: str, credential_id: str) -> Credential | None:
        item = self._get(keys.credential(account_id, credential_id))
        return to_credential(account_id, item) if item else None

    # --- customers: PIN attempts and what a correct PIN unlocks ----------------------------------
    def reserve_pin_attempt(
        self,
        account_id: str,
        now: datetime,
        *,
        credential_id: str | None = None,
        institution_id: str | None = None,
        to_sign: bool = False,
        token: str | None = None,
    ) -> PinSlot:
        """Reserves the next PIN attempt before the PIN is checked, so parallel attempts can
        never exceed the limit or lose a count, and records when (pin_reserved_at). With
        credential_id / institution_id / to_sign, only when that credential is the active one /
        that institution is registered / there is an active certificate that is not suspended:
        an attempt that could not have done what it was for costs no slot.

        Retry-safe: the update records its token (one per call, made before it, so botocore's
        retries of the call resend it) among the latest reservations' (PIN_RESERVATION_TOKENS),
        on condition that it is not there yet. A retry of a reservation that committed but whose
        answer was lost fails that condition, and the refusal's ALL_OLD item shows the token and
        so the slot it took: the answer is that slot, as the first answer would have been, and
        no second slot is counted against the customer."""
        token = token or secrets.token_urlsafe(8)  # 64 bits: unique among an account's latest
        conditions = [
            "attribute_exists(pk)",
            "pin_attempts < pin_lock_at",
            "NOT (" + " OR ".join(f"{name} = :token" for name in PIN_RESERVATION_TOKENS) + ")",
        ]
        values: dict[str, Any] = {":one": 1, ":reserved_at": iso(now), ":token": token, ":no_token": "-"}
        if to_sign:
            conditions += [
                "attribute_exists(active_credential_id)",
                "attribute_not_exists(credential_suspended)",
            ]
        if credential_id is not None:
            conditions.append("active_credential_id = :cid")
            values[":cid"] = credential_id
        if institution_id is not None:
            conditions.append("contains(institutions, :iid)")
            values[":iid"] = institution_id
        # Every token moves one place older and this one is the newest: the item holds
        # MAX_PIN_FAILURES tokens, however many attempts there are. Every operand is read from
        # the item as it was before the update (DynamoDB's rule, which moto follows too).
        older = reversed(list(zip(PIN_RESERVATION_TOKENS[1:], PIN_RESERVATION_TOKENS[:-1], strict=True)))
        shift = [f"{name} = if_not_exists({previous}, :no_token)" for name, previous in older]
        try:
            response = self._update(
                keys.account(account_id),
                UpdateExpression=(
                    "SET pin_reserved_at = :reserved_at, "
                    + ", ".join([*shift, f"{PIN_RESERVATION_TOKENS[0]} = :token"])
                    + " ADD pin_attempts :one"
                ),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeValues=attribute_values(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as e:
            if e.stored is not None and (slot := _reserved_slot(e.stored, token)) is not None:
                return PinSlot(to_account(account_id, e.stored), slot)
            raise PinSlotRefused(to_account(account_id, e.stored) if e.stored else None) from e
        item = load_item(response["Attributes"])
        return PinSlot(to_account(account_id, item), int(item["pin_attempts"]))

    def pin_judged_wrong(self, slot: PinSlot) -> Account | None:
        """Marks the slot's PIN as judged wrong (ADD to pin_wrong_slots), unless the slot was
        forgiven meanwhile or the PIN was replaced; the account as it is now (None: the mark
        was not needed or the account is gone, then nothing was written)."""
        try:
            response = self._update(
                keys.account(slot.account.account_id),
                UpdateExpression="ADD pin_wrong_slots :slots",
                ConditionExpression=(
                    "attribute_exists(pk) AND pin_verifier = :checked AND pin_cleared < :slot"
                    # After a reset the numbering restarts: a slot not reserved since is not ours.
                    " AND pin_attempts >= :slot"
                ),
                ExpressionAttributeValues=attribute_values(
                    {":slots": {slot.slot}, ":slot": slot.slot, ":checked": slot.account.pin_verifier}
                ),
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None
        return to_account(slot.account.account_id, load_item(response["Attributes"]))

    def pin_accepted(self, slot: PinSlot, today: date, history: HistoryEntry, unlock: PinUnlock) -> None:
        """What a correct PIN does, in one transaction: forgives the attempts up to its slot
        (never a later one: a wrong PIN racing this success still counts), records the use, and
        writes what the PIN unlocked. Raises ConditionFailed("account") when the PIN (or, with a
        status change or a signature, the active credential) changed meanwhile,
        "credential"/"serial" when the status did."""
        account = slot.account
        values: dict[str, Any] = {":checked": account.pin_verifier}
        assignments, last_use_values = last_use_assignments(account.account_id, today)
        values |= last_use_values
        sets = [assignments]
        adds: list[str] = []
        removes: list[str] = []
        condition = "attribute_exists(pk) AND pin_verifier = :checked"
        items = [self._put_history(account.account_id, history)]
        names = ["history"]
        forgives = True
        match unlock:
            case GrantActivation(activation):
                items.append(self._put(activation_item(activation)))
                names.append("activation")
            case RegisterInstitution(institution_id):
                adds.append("institutions :institution")
                values[":institution"] = {institution_id}
            case ReplacePin(pin_verifier):
                # A new PIN starts a new count: nothing of the old one is forgiven or kept.
                sets += [PIN_COUNTERS_RESET_ASSIGNMENTS, "pin_verifier = :new_verifier"]
                removes.append(PIN_COUNTERS_RESET_REMOVALS)
                values |= pin_counters_reset_values() | {":new_verifier": pin_verifier}
                forgives = False
            case ApplyStatusChange(status_change):
                change = self._status_change(status_change)
                sets += change.account_sets
                removes += change.account_removes
                condition += " AND " + change.account_condition
                values |= change.account_values
                items += change.items
                names += ["credential", "serial"]
            case ReleaseSignature(credential_id, timestamps):
                condition += (
                    " AND active_credential_id = :signed_with AND attribute_not_exists(credential_suspended)"
                )
                values[":signed_with"] = credential_id
                # The signatures' time-stamp tokens are on record exactly when they are returned.
                items += [self._put(timestamp_item(record)) for record in timestamps]
                names += ["timestamp"] * len(timestamps)

        def attempt(forgive: bool) -> None:
            update_sets, update_values, update_condition = list(sets), dict(values), condition
            deletes = ""
            if forgive:
                update_sets.append("pin_cleared = :slot, pin_lock_at = :lock_at")
                update_values |= {":slot": slot.slot, ":lock_at": slot.slot + MAX_PIN_FAILURES}
                update_condition += " AND pin_cleared < :slot"
                deletes = _forget_wrong_slots(slot, update_values)
            expression = (
                "SET "
                + ", ".join(update_sets)
                + (" ADD " + ", ".join(adds) if adds else "")
                + (" REMOVE " + ", ".join(removes) if removes else "")
                + deletes
            )
            account_update = self._tx_update(
                keys.account(account.account_id),
                UpdateExpression=expression,
                ConditionExpression=update_condition,
                ExpressionAttributeValues=attribute_values(update_values),
            )
            self._transact([account_update, *items], ["account", *names])

        try:
            attempt(forgive=forgives)
        except ConditionFailed as e:
            if "account" not in e.reasons or not forgives:
                raise
            # A later correct PIN already forgave past our slot (or the PIN changed): write the
            # rest without moving the forgiven mark back; a changed PIN fails again here.
            attempt(forgive=False)

    def forgive_pin_attempt(self, slot: PinSlot) -> None:
        """A correct PIN whose purpose could not be written (another request won a race): its
        slot is forgiven all the same, unless the PIN changed or a later success forgave more."""
        values: dict[str, Any] = {
            ":slot": slot.slot,
            ":lock_at": slot.slot + MAX_PIN_FAILURES,
            ":checked": slot.account.pin_verifier,
        }
        deletes = _forget_wrong_slots(slot, values)
        with contextlib.suppress(ConditionFailed):
            self._update(
                keys.account(slot.account.account_id),
                UpdateExpression="SET pin_cleared = :slot, pin_lock_at = :lock_at" + deletes,
                ConditionExpression="attribute_exists(pk) AND pin_verifier = :checked AND pin_cleared < :slot",
                ExpressionAttributeValues=attribute_values(values),
            )

    # --- customers: PIN reset after re-verification ---------------------------------------------
    def reset_pin(
        self, verification_id: str, account_id: str, new_pin_verifier: str, today: date, history: HistoryEntry
    ) -> None:
        assignments, values = last_use_assignments(account_id, today)
        self._transact(
            [
                self._use_verification(verification_id),
                self._tx_update(
                    keys.account(account_id),
                    UpdateExpression=(
                        f"SET pin_verifier = :verifier, {PIN_COUNTERS_RESET_ASSIGNMENTS}, {assignments}"
                        f" REMOVE {PIN_COUNTERS_RESET_REMOVALS}"
                    ),
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=attribute_values(
                        {":verifier": new_pin_verifier} | pin_counters_reset_values() | values
                    ),
                ),
                self._put_history(account_id, history),
            ],
            ["verification", "account", "history"],
        )

    def change_status_verified(
        self, verification_id: str, change: StatusChange, today: date, history: HistoryEntry
    ) -> None:
        """A status change the institution's re-verification of the customer allowed: the
        verification used, the account (still with this active credential, still registered with
        the institution), the credential, its serial and the history, in one transaction. Raises
        ConditionFailed naming "verification", "account", "credential" or "serial"."""
        write = self._status_change(change)
        assignments, values = last_use_assignments(change.account_id, today)
        sets = [assignments, *write.account_sets]
        expression = "SET " + ", ".join(sets)
        if write.account_removes:
            expression += " REMOVE " + ", ".join(write.account_removes)
        account = self._tx_update(
            keys.account(change.account_id),
            UpdateExpression=expression,
            ConditionExpression=f"attribute_exists(pk) AND contains(institutions, :sc_iid) AND {write.account_condition}",
            ExpressionAttributeValues=attribute_values(
                values | write.account_values | {":sc_iid": change.institution_id}
            ),
        )
        self._transact(
            [
                self._use_verification(verification_id),
                account,
                *write.items,
                self._put_history(change.account_id, history),
            ],
            ["verification", "account", "credential", "serial", "history"],
        )


def _reserved_slot(stored: dict[str, Any], token: str) -> int | None:
    """The slot a reservation with this token took, if it is among the latest (the k-th newest
    token took the k-th newest slot: each reservation adds one of both)."""
    for age, name in enumerate(PIN_RESERVATION_TOKENS):
        if stored.get(name) == token:
            return int(stored["pin_attempts"]) - age
    return None


def _forget_wrong_slots(slot: PinSlot, values: dict[str, Any]) -> str:
    """The DELETE clause that drops, with the slot's forgiveness, the wrong-PIN marks of earlier
    slots its reservation saw (forgiven with it), so the set holds at most the marks of attempts
    since the last correct PIN. Marks written after the reservation stay until the next correct
    PIN (past pin_cleared they no longer count anyway); a retried reservation answered from the
    item as it is later may see marks of later slots, which are not its to drop."""
    seen = frozenset(mark for mark in slot.account.pin_wrong_slots if mark < slot.slot)
    if not seen:
        return ""
    values[":seen_wrong"] = set(seen)
    return " DELETE pin_wrong_slots :seen_wrong"
