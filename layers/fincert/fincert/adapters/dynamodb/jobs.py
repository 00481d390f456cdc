"""The daily jobs' `due` entries (fincert.adapters.dynamodb.keys) and the renewal transaction."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import date, datetime
from typing import Any

from fincert.adapters.aws_errors import aws_call
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    SharedItems,
    credential_item,
)
from fincert.adapters.dynamodb.keys import Key
from fincert.adapters.dynamodb.table import (
    attribute_values,
    iso,
    load_item,
)
from fincert.domain.account_records import RevocationReason
from fincert.domain.job_records import DueEntry, DuePage, RenewalCommit
from fincert.domain.status_records import SerialStatus
from fincert.errors import ConditionFailed


class JobTable(SharedItems):
    """Every daily job queries `due` (see fincert.adapters.dynamodb.keys) and acts on an entry
    only while it is still the one the query saw."""

    def due_partitions(self, kind: str) -> list[str]:
        """The due_pk values of a sharded kind ("renew", "expiry", "idle", "idle-warned")."""
        return keys.due_partitions(kind)

    def query_due(
        self, due_pk: str, before: str, limit: int, start_key: dict[str, str] | None = None
    ) -> DuePage:
        """One page of `due` entries under due_pk whose due_sk sorts before `before`."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "due",
            "KeyConditionExpression": "due_pk = :due_pk AND due_sk < :before",
            "ExpressionAttributeValues": attribute_values({":due_pk": due_pk, ":before": before}),
            "Limit": limit,
        }
        if start_key:
            query["ExclusiveStartKey"] = attribute_values(start_key)
        with aws_call("DynamoDB"):
            page = self._client().query(**query)
        entries = []
        for raw in page.get("Items", []):
            item = load_item(raw)
            entries.append(DueEntry(item["due_pk"], item["due_sk"], item["pk"], item["sk"]))
        next_key = page.get("LastEvaluatedKey")
        return DuePage(entries, {k: str(v) for k, v in load_item(next_key).items()} if next_key else None)

    def _due_update(self, entry: DueEntry, expression: str, values: dict[str, Any], also: str = "") -> bool:
        """An update of the item behind a due entry, on condition that the entry is still the
        one the query saw (and `also`); False when it is not (done meanwhile, or used)."""
        try:
            self._update(
                Key(entry.pk, entry.sk),
                UpdateExpression=expression,
                ConditionExpression="due_pk = :seen_pk AND due_sk = :seen_sk"
                + (f" AND {also}" if also else ""),
                ExpressionAttributeValues=attribute_values(
                    {":seen_pk": entry.due_pk, ":seen_sk": entry.due_sk} | values
                ),
            )
        except ConditionFailed:
            return False
        return True

    def clear_due(self, entry: DueEntry) -> bool:
        return self._due_update(entry, "REMOVE due_pk, due_sk", {})

    def take_expiry_notice(self, entry: DueEntry, now: datetime) -> bool:
        """Claims the expiry notice of a credential (at most one is sent): leaves `due`."""
        return self._due_update(
            entry, "SET expiry_notice_at = :now REMOVE due_pk, due_sk", {":now": iso(now)}
        )

    def return_expiry_notice(self, entry: DueEntry) -> None:
        """Undoes take_expiry_notice (the SMS could not be sent): due again for the next run."""
        with contextlib.suppress(ConditionFailed):
            self._update(
                Key(entry.pk, entry.sk),
                UpdateExpression="SET due_pk = :due_pk, due_sk = :due_sk REMOVE expiry_notice_at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(due_pk)",
                ExpressionAttributeValues=attribute_values(
                    {":due_pk": entry.due_pk, ":due_sk": entry.due_sk}
                ),
            )

    def mark_warned(self, entry: DueEntry, last_used_day: date, today: date) -> bool:
        """Moves an idle account to the warned partition (same due_sk), so the next day's warn
        query does not read it again; any use moves it back (last_use_attributes)."""
        account_id = keys.account_id_of(entry.pk)
        return self._due_update(
            entry,
            "SET due_pk = :warned, warned_on = :today",
            {
                ":warned": keys.due_partition("idle-warned", account_id),
                ":today": today.isoformat(),
                ":day": last_used_day.isoformat(),
            },
            also="last_used_day = :day",
        )

    def unmark_warned(self, entry: DueEntry, last_used_day: date) -> None:
        """Undoes mark_warned (the SMS could not be sent), unless the account moved meanwhile."""
        account_id = keys.account_id_of(entry.pk)
        with contextlib.suppress(ConditionFailed):
            self._update(
                Key(entry.pk, entry.sk),
                UpdateExpression="SET due_pk = :idle REMOVE warned_on",
                ConditionExpression="due_pk = :warned AND due_sk = :seen_sk AND last_used_day = :day",
                ExpressionAttributeValues=attribute_values(
                    {
                        ":idle": entry.due_pk,
                        ":warned": keys.due_partition("idle-warned", account_id),
                        ":seen_sk": entry.due_sk,
                        ":day": last_used_day.isoformat(),
                    }
                ),
            )

    def commit_renewal(self, commit: RenewalCommit) -> None:
        """Raises ConditionFailed naming "account" (no longer the active credential, or the
        account is gone), "old_credential" (not active any more), "credential", "new_serial"."""
        old, new, now = commit.old, commit.new, commit.now
        items: list[dict[str, Any]] = [
            self._tx_update(
                keys.account(old.account_id),
                # Not a use by the customer: last_used_day (the idle-purge clock) stays.
                UpdateExpression=(
                    "SET active_credential_id = :new, active_serial = :serial,"
                    " certificate_not_after = :not_after, updated_at = :at"
                ),
                ConditionExpression="attribute_exists(pk) AND active_credential_id = :old",
                ExpressionAttributeValues=attribute_values(
                    {
                        ":new": new.credential_id,
                        ":serial": keys.serial_hex(new.serial_number),
                        ":not_after": iso(new.not_after),
                        ":at": iso(now),
                        ":old": old.credential_id,
                    }
                ),
            ),
            self._supersede_credential(old.account_id, old.credential_id, now, only_if_active=True),
            # As in commit_issuance: a record already gone by TTL (renewal after expiry) is
            # recreated expiring at once.
            self._serial_status_item(
                old.serial_number,
                SerialStatus.REVOKED,
                at=now,
                reason=RevocationReason.SUPERSEDED.value,
                recreate_expiring_at=now,
            ),
            self._put(credential_item(new) | {"renewed_from": old.credential_id}),
            self._mark_serial_issued(new.serial_number),
            self._put_history(new.account_id, commit.history),
            self._put_history(old.account_id, commit.superseded_history),
        ]
        names = ["account", "old_credential", "old_serial", "credential", "new_serial", "history", "history"]
        token = hashlib.sha256(f"renew|{old.credential_id}|{new.credential_id}".encode()).hexdigest()[:36]
        self._transact(items, names, token=token)
