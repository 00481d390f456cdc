"""Item shapes: how each record the domain speaks of is written to and read from the table,
and the transaction items several aggregates put into one transaction (a history line, a use
of the account, a serial's status, a status change, a rate-limit count)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.table import (
    Table,
    as_bytes,
    attribute_values,
    dump_item,
    epoch_seconds,
    from_iso,
    from_iso_millis,
    iso,
    iso_millis,
    millis,
    status_in,
)
from fincert.crl_partitions import EXPIRED_PARTITION
from fincert.domain.account_records import Account, Credential, CredentialStatus, RevocationReason
from fincert.domain.history_records import HistoryEntry, HistoryEvent
from fincert.domain.institution_records import Institution
from fincert.domain.pin import MAX_PIN_FAILURES
from fincert.domain.rate_limits import RateLimit
from fincert.domain.retention import audit_retained_until
from fincert.domain.schedule import renewal_window_start
from fincert.domain.session_records import Session, SignatureActivation
from fincert.domain.status_records import (
    STATUS_TRANSITIONS,
    SerialRecord,
    SerialStatus,
    StatusAction,
    StatusChange,
)
from fincert.errors import ConditionFailed, RateLimited

if TYPE_CHECKING:
    from fincert.domain.timestamp_records import TimestampRecord


def last_use_attributes(account_id: str, day: date) -> dict[str, str]:
    """The ACCOUNT attributes that record a cloud use on a KST day, with its idle-purge entry
    in `due`. Setting due_pk also takes the account out of any "warned" state."""
    return {
        "last_used_day": day.isoformat(),
        "due_pk": keys.due_partition("idle", account_id),
        "due_sk": f"{day.isoformat()}#{account_id}",
    }


def last_use_assignments(account_id: str, day: date) -> tuple[str, dict[str, Any]]:
    """last_use_attributes as SET assignments and their values: every write that touches the
    ACCOUNT item anyway carries them, so recording use costs no extra round trip."""
    attributes = last_use_attributes(account_id, day)
    assignments = ", ".join(f"{name} = :lu_{name}" for name in attributes)
    return assignments, {f":lu_{name}": value for name, value in attributes.items()}


# A new PIN starts with no failures: attempts and forgiven attempts both at 0, locked at the 5th.
PIN_COUNTERS_RESET = {"pin_attempts": 0, "pin_cleared": 0, "pin_lock_at": MAX_PIN_FAILURES}
PIN_COUNTERS_RESET_ASSIGNMENTS = ", ".join(f"{name} = :pr_{name}" for name in PIN_COUNTERS_RESET)


# The tokens of the latest PIN slot reservations, newest first (pin_rsv0 is the latest slot's):
# botocore resends a reservation whose answer was lost, and one whose token is still here is
# answered with the slot it took instead of taking another. MAX_PIN_FAILURES of them suffice: a
# reservation pushed out by that many later ones had its slot forgiven already (reserving the
# last of them needed pin_lock_at past it), so its retry taking a fresh slot counts nothing twice.
PIN_RESERVATION_TOKENS = tuple(f"pin_rsv{n}" for n in range(MAX_PIN_FAILURES))

# ... and with no slot judged wrong and no reservation to recognise (the slots are numbered
# afresh): a REMOVE clause beside PIN_COUNTERS_RESET_ASSIGNMENTS.
PIN_COUNTERS_RESET_REMOVALS = ", ".join(("pin_wrong_slots", *PIN_RESERVATION_TOKENS))


def pin_counters_reset_values() -> dict[str, Any]:
    return {f":pr_{name}": value for name, value in PIN_COUNTERS_RESET.items()}


def credential_item(c: Credential) -> dict[str, Any]:
    """A new CRED item, with its `due` entry (renewal or expiry notice)."""
    return {
        **keys.credential(c.account_id, c.credential_id).as_dict(),
        "credential_id": c.credential_id,
        "serial": keys.serial_hex(c.serial_number),
        "key_algorithm": c.key_algorithm,
        "certificate": c.certificate_der,
        "wrapped_private_key": c.wrapped_private_key,
        "not_before": iso(c.not_before),
        "not_after": iso(c.not_after),
        "issued_by": c.issued_by,
        "auto_renew": c.auto_renew,
        "created_at": iso(c.created_at),
        "status": c.status.value,
    } | credential_due_attributes(c)


def credential_due_attributes(credential: Credential) -> dict[str, str]:
    """The `due` entry of an active credential: renewal (auto_renew) or an expiry notice, from
    the first day of its renewal window (fincert.domain.schedule)."""
    kind = "renew" if credential.auto_renew else "expiry"
    day = renewal_window_start(credential.not_after).isoformat()
    return {
        "due_pk": keys.due_partition(kind, credential.account_id),
        "due_sk": f"{day}#{credential.account_id}#{credential.credential_id}",
    }


def to_account(account_id: str, item: dict[str, Any]) -> Account:
    serial = item.get("active_serial")
    return Account(
        account_id=account_id,
        person_index=item["person_index"],
        holder_suffix=item["holder_suffix"],
        identity_ciphertext=as_bytes(item["identity_ciphertext"]),
        pin_verifier=item["pin_verifier"],
        created_at=from_iso(item["created_at"]),
        active_credential_id=item.get("active_credential_id"),
        active_serial=int(serial, 16) if serial else None,
        pin_attempts=int(item.get("pin_attempts", 0)),
        pin_cleared=int(item.get("pin_cleared", 0)),
        pin_wrong_slots=frozenset(int(slot) for slot in item.get("pin_wrong_slots", ())),
        pin_reserved_at=from_iso(item["pin_reserved_at"]) if "pin_reserved_at" in item else None,
        institutions=frozenset(item.get("institutions", ())),
        device_count=int(item.get("device_count", 0)),
        last_used_day=item.get("last_used_day"),
        credential_suspended=bool(item.get("credential_suspended", False)),
        certificate_not_after=(
            from_iso(item["certificate_not_after"]) if item.get("certificate_not_after") else None
        ),
    )


def to_credential(account_id: str, item: dict[str, Any]) -> Credential:
    return Credential(
        credential_id=item["credential_id"],
        account_id=account_id,
        serial_number=int(item["serial"], 16),
        key_algorithm=item["key_algorithm"],
        certificate_der=as_bytes(item["certificate"]),
        wrapped_private_key=as_bytes(item["wrapped_private_key"]),
        not_before=from_iso(item["not_before"]),
        not_after=from_iso(item["not_after"]),
        issued_by=item["issued_by"],
        auto_renew=bool(item["auto_renew"]),
        created_at=from_iso(item["created_at"]),
        status=CredentialStatus(item["status"]),
        status_changed_at=(
            from_iso_millis(item["status_changed_at"]) if item.get("status_changed_at") else None
        ),
    )


def history_item(account_id: str, entry: HistoryEntry) -> dict[str, Any]:
    at = iso_millis(entry.at)
    return {
        **keys.history(account_id, at, entry.entry_id).as_dict(),
        "event": entry.event.value,
        "at": at,
        "institution_id": entry.institution_id,
        "credential_id": entry.credential_id,
        "detail": dict(entry.detail) if entry.detail else None,
        # Fixed at write time; nothing ever updates an audit entry (template.yaml denies it).
        "expires_at": epoch_seconds(audit_retained_until(entry.at, entry.certificate_not_after)),
    }


def to_history(item: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        event=HistoryEvent(item["event"]),
        at=from_iso_millis(item["at"]),
        institution_id=item["institution_id"],
        credential_id=item.get("credential_id"),
        detail=dict(item["detail"]) if item.get("detail") else None,
        entry_id=item["sk"].rsplit("#", 1)[-1],
    )


def to_institution(item: dict[str, Any]) -> Institution:
    previous_until = item.get("previous_key_valid_until")
    return Institution(
        institution_id=item["institution_id"],
        name=item["name"],
        api_key_hash=item["api_key_hash"],
        scopes=frozenset(item.get("scopes", ())),
        allowed_origins=tuple(item.get("allowed_origins", ())),
        active=bool(item.get("active", True)),
        hosted_only=bool(item.get("hosted_only", False)),
        previous_api_key_hash=item.get("previous_api_key_hash"),
        previous_key_valid_until=from_iso(previous_until) if previous_until else None,
    )


def session_item(s: Session) -> dict[str, Any]:
    return {
        **keys.session(s.account_id, s.session_id).as_dict(),
        "institution_id": s.institution_id,
        "secret_hash": s.secret_hash,
        "created_at": iso(s.created_at),
        "valid_until": millis(s.expires_at),
        "via": s.via,
        "device_id": s.device_id,
        "expires_at": epoch_seconds(s.expires_at),
    }


def activation_item(a: SignatureActivation) -> dict[str, Any]:
    return {
        **keys.activation(a.account_id, a.sad_id).as_dict(),
        "credential_id": a.credential_id,
        "institution_id": a.institution_id,
        "secret_hash": a.secret_hash,
        "hashes": set(a.hashes) or None,
        "remaining": a.remaining,
        "valid_until": millis(a.expires_at),
        "expires_at": epoch_seconds(a.expires_at),
    }


def to_serial_record(serial_number: int, item: dict[str, Any]) -> SerialRecord:
    revoked_at = item.get("revoked_at")
    return SerialRecord(
        serial_number=serial_number,
        status=SerialStatus(item["status"]),
        revoked_at=from_iso(revoked_at) if revoked_at else None,
        revocation_reason=item.get("revocation_reason"),
    )


def serial_status_update(
    serial_number: int,
    status: SerialStatus,
    *,
    at: datetime,
    reason: str | None = None,
    only_from: Sequence[SerialStatus] = (),
    recreate_expiring_at: datetime | None = None,
) -> dict[str, Any]:
    """THE way a SERIAL record changes status: the UpdateItem request (without Key and
    TableName) that sets status, revocation time and reason, and the `crl` index keys together,
    so OCSP (which reads the record) and the CRL (which queries the index) can never disagree.

    - REVOKED: `reason` is an RFC 5280 CRLReason name ("superseded", "keyCompromise", ...).
    - SUSPENDED: the reason is always certificateHold (RFC 5280 5.3.1), on OCSP and the CRL.
    - ISSUED (restore): the revocation fields and the index keys go; the serial leaves the
      partition's next CRL (no removeFromCRL: there are no delta CRLs).
    `only_from` makes the write conditional on the current status. Without it the record
    must exist, unless `recreate_expiring_at` is given: a record already deleted by TTL (its
    certificate expired) is then recreated, expiring at that time.
    """
    values: dict[str, Any] = {":status": status.value}
    if status is SerialStatus.ISSUED:
        expression = "SET #status = :status REMOVE revoked_at, revocation_reason, crl_pk, crl_sk"
    elif status in (SerialStatus.REVOKED, SerialStatus.SUSPENDED):
        if status is SerialStatus.SUSPENDED:
            reason = "certificateHold"
        if not reason:
            raise ValueError("a revocation needs a reason (RFC 5280 CRLReason name)")
        # crl_partition was written with the pre-signing record; a record recreated after
        # its TTL has none, and its expired certificate belongs in no CRL served.
        expression = (
            "SET #status = :status, revoked_at = :at, revocation_reason = :reason,"
            " crl_pk = if_not_exists(crl_partition, :expired), crl_sk = :serial"
        )
        values |= {
            ":at": iso(at),
            ":reason": reason,
            ":expired": EXPIRED_PARTITION,
            ":serial": keys.serial_hex(serial_number),
        }
    else:
        raise ValueError(f"a serial cannot be set back to {status.value}")
    if recreate_expiring_at is not None:
        expression += ", expires_at = if_not_exists(expires_at, :expires)"
        values[":expires"] = epoch_seconds(recreate_expiring_at)
    if status is not SerialStatus.ISSUED:
        # Whatever was due about a pending record (the reconciler) is settled.
        expression += " REMOVE due_pk, due_sk"
    request: dict[str, Any] = {
        "UpdateExpression": expression,
        "ExpressionAttributeNames": {"#status": "status"},
    }
    if only_from:
        request["ConditionExpression"] = status_in(only_from, values, ":from")
    elif recreate_expiring_at is None:
        request["ConditionExpression"] = "attribute_exists(pk)"
    request["ExpressionAttributeValues"] = attribute_values(values)
    return request


def timestamp_item(entry: TimestampRecord) -> dict[str, Any]:
    """A time-stamp token's ledger item (TSTOKEN#<serial>): written by the time-stamping authority
    (timestamps.py) and inside the signing call's commit (accounts.py)."""
    return {
        **keys.timestamp_token(entry.serial_number).as_dict(),
        "hash_algorithm": entry.hash_algorithm,
        "imprint": entry.imprint.hex(),
        "gen_time": iso(entry.gen_time),
        "institution_id": entry.institution_id,
        "caller": entry.caller,
        "expires_at": epoch_seconds(entry.expires_at),
    }


@dataclass(frozen=True)
class StatusChangeWrite:
    account_sets: list[str]
    account_removes: list[str]
    account_condition: str
    account_values: dict[str, Any]
    items: list[dict[str, Any]]  # the CRED and SERIAL updates, in that order


class SharedItems(Table):
    """The transaction items that several aggregates put into their own transactions."""

    def _check_account_exists(self, account_id: str) -> dict[str, Any]:
        """A transaction item that fails once the account is gone: nothing written for an account
        (a session, a device, a SAD) can outlive or resurrect a purged one."""
        return self._tx_check(keys.account(account_id), ConditionExpression="attribute_exists(pk)")

    def _touch_account(self, account_id: str, today: date) -> dict[str, Any]:
        """A transaction item recording a cloud use, on condition that the account exists."""
        assignments, values = last_use_assignments(account_id, today)
        return self._tx_update(
            keys.account(account_id),
            UpdateExpression=f"SET {assignments}",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=attribute_values(values),
        )

    def _with_institution(
        self, key: keys.Key, institution_id: str
    ) -> tuple[dict[str, Any] | None, Institution | None]:
        """An item and the institution a credential names, in one strongly consistent round trip
        (the authorizer's read: a deactivation shows in the very next request)."""
        item, institution_item = self._batch_get([key, keys.institution(institution_id)])
        return item, to_institution(institution_item) if institution_item else None

    def _put_history(self, account_id: str, entry: HistoryEntry) -> dict[str, Any]:
        return self._put(history_item(account_id, entry))

    def _use_verification(self, verification_id: str) -> dict[str, Any]:
        return self._tx_update(
            keys.verification(verification_id),
            UpdateExpression="SET used = :true",
            ConditionExpression="used = :false",
            ExpressionAttributeValues=attribute_values({":true": True, ":false": False}),
        )

    def _serial_status_item(self, serial_number: int, status: SerialStatus, **options: Any) -> dict[str, Any]:
        """serial_status_update as a transaction item."""
        return self._tx_update(
            keys.serial(serial_number), **serial_status_update(serial_number, status, **options)
        )

    def _supersede_credential(
        self, account_id: str, credential_id: str, now: datetime, *, only_if_active: bool
    ) -> dict[str, Any]:
        """The old CRED of a reissue or renewal, revoked as superseded; no longer due for renewal
        or a notice. A renewal supersedes only an active credential; a reissue any that exists."""
        values: dict[str, Any] = {
            ":revoked": CredentialStatus.REVOKED.value,
            ":at": iso(now),
            ":reason": RevocationReason.SUPERSEDED.value,
        }
        condition = "attribute_exists(pk)"
        if only_if_active:
            condition = "#status = :active"
            values[":active"] = CredentialStatus.ACTIVE.value
        return self._tx_update(
            keys.credential(account_id, credential_id),
            UpdateExpression="SET #status = :revoked, revoked_at = :at, revocation_reason = :reason"
            " REMOVE due_pk, due_sk",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=attribute_values(values),
        )

    def _mark_serial_issued(self, serial_number: int) -> dict[str, Any]:
        """A new certificate's pre-signing record becomes its issued serial, leaving the
        reconciler's `due` partition; fails if the reconciler revoked it first."""
        return self._tx_update(
            keys.serial(serial_number),
            UpdateExpression="SET #status = :issued REMOVE due_pk, due_sk",
            ConditionExpression="#status = :presigned",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=attribute_values(
                {":issued": SerialStatus.ISSUED.value, ":presigned": SerialStatus.PRESIGNED.value}
            ),
        )

    def _rate_limit_update(self, limit: RateLimit, delta: int, *, conditional: bool) -> dict[str, Any]:
        window_end = limit.window_start + timedelta(seconds=limit.window_seconds)
        values = {":delta": delta, ":ttl": epoch_seconds(window_end)}
        condition = {}
        if conditional:
            condition["ConditionExpression"] = "attribute_not_exists(#n) OR #n < :limit"
            values[":limit"] = limit.limit
        return self._tx_update(
            keys.rate_limit(limit.scope, limit.subject, iso(limit.window_start)),
            UpdateExpression="ADD #n :delta SET expires_at = :ttl",
            ExpressionAttributeNames={"#n": "count"},
            ExpressionAttributeValues=attribute_values(values),
            **condition,
        )

    def _create_with_limits(
        self,
        item: dict[str, Any],
        limits: Sequence[RateLimit],
        created_at: datetime,
        refusal: tuple[str, str] = ("sms_rate_limited", "too many SMS codes requested, retry later"),
    ) -> None:
        """Writes a new item, counting it against every limit (by default the SMS limits of an
        item that texts a code), atomically; `refusal` is the (code, message) of a spent limit."""
        updates = [self._rate_limit_update(limit, 1, conditional=True) for limit in limits]
        put = {
            "Put": {
                "TableName": self._table,
                "Item": dump_item(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        try:
            self._transact([*updates, put], [limit.scope for limit in limits] + ["item"])
        except ConditionFailed as e:
            exhausted = [scope for scope in e.reasons if scope != "item"]
            if not exhausted:
                raise
            window_end = limits[0].window_start + timedelta(seconds=limits[0].window_seconds)
            retry_after = max(1, math.ceil((window_end - created_at).total_seconds()))
            raise RateLimited(
                refusal[1],
                code=refusal[0],
                retry_after=retry_after,
                limit=exhausted[0],
            ) from e

    def _cancel_with_limits(self, key: keys.Key, limits: Sequence[RateLimit]) -> None:
        items = [self._rate_limit_update(limit, -1, conditional=False) for limit in limits]
        items.append(self._tx_delete(key))
        self._transact(items, [limit.scope for limit in limits] + ["item"])

    def _status_change(self, change: StatusChange) -> StatusChangeWrite:
        """What a status change writes besides the history: the ACCOUNT item's part (the caller
        merges it into its own update of the account), the CRED and the SERIAL updates. Each is
        conditioned on the state the change starts from (fincert.domain.status_records.STATUS_TRANSITIONS),
        so two racing changes cannot both win."""
        transition = STATUS_TRANSITIONS[change.action]
        values: dict[str, Any] = {
            ":sc_to": transition.credential_to.value,
            ":sc_at": iso(change.at),
            # To the millisecond: SADs issued before a change are told apart from those after it.
            ":sc_changed": iso_millis(change.at),
        }
        credential_in_allowed = status_in(transition.credential_from, values, ":sc_from")
        credential_update = "SET #status = :sc_to, status_changed_at = :sc_changed"
        if change.action is StatusAction.REVOKE:
            credential_update += ", revoked_at = :sc_at, revocation_reason = :sc_reason REMOVE due_pk, due_sk"
            values[":sc_reason"] = change.reason
        credential = self._tx_update(
            keys.credential(change.account_id, change.credential_id),
            UpdateExpression=credential_update,
            ConditionExpression=credential_in_allowed,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=attribute_values(values),
        )
        serial = self._serial_status_item(
            change.serial_number,
            transition.serial_to,
            at=change.at,
            reason=change.reason,
            only_from=transition.serial_from,
        )
        account_sets, account_removes = [], []
        if change.action is StatusAction.SUSPEND:
            account_sets.append("credential_suspended = :sc_suspended")
        elif change.action is StatusAction.RESTORE:
            account_removes.append("credential_suspended")
        else:  # a revoked certificate is no longer the account's: the customer reissues
            account_removes += ["credential_suspended", "active_credential_id", "active_serial"]
        return StatusChangeWrite(
            account_sets=account_sets,
            account_removes=account_removes,
            account_condition="active_credential_id = :sc_cid",
            account_values={":sc_cid": change.credential_id}
            | ({":sc_suspended": True} if account_sets else {}),
            items=[credential, serial],
        )
