"""The idle purge: the account's idle state, the transaction that deletes it and leaves the purge record, and the deletion of the rest of its partition."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from fincert.adapters.aws_errors import aws_call
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    SharedItems,
)
from fincert.adapters.dynamodb.table import (
    as_bytes,
    attribute_values,
    epoch_seconds,
    from_iso,
    iso,
)
from fincert.domain.account_records import RevocationReason
from fincert.domain.history_records import HistoryEntry
from fincert.domain.job_records import IdleState, PartitionItem, PurgeRecord
from fincert.domain.status_records import SerialStatus
from fincert.errors import ConditionFailed, ServiceUnavailable

# Attempts at a batch of deletes DynamoDB left (partly) unprocessed.
_BATCH_ATTEMPTS = 3


class PurgeTable(SharedItems):
    def get_idle_state(self, account_id: str) -> IdleState | None:
        item = self._get(keys.account(account_id))
        if item is None:
            return None
        day, warned = item.get("last_used_day"), item.get("warned_on")
        return IdleState(
            account_id=account_id,
            person_index=item["person_index"],
            identity_ciphertext=as_bytes(item["identity_ciphertext"]),
            last_used_day=date.fromisoformat(day) if day else None,
            due_pk=item.get("due_pk"),
            due_sk=item.get("due_sk"),
            warned_on=date.fromisoformat(warned) if warned else None,
        )

    def begin_purge(self, state: IdleState, record: PurgeRecord) -> None:
        """Deletes the ACCOUNT and PERSON items and writes the purge record, in one transaction
        conditioned on the account being unused since the day the job saw (any use moves
        last_used_day and due_pk): a racing request either kept the account, or finds it gone.
        Raises ConditionFailed naming "account", "person" or "record"."""
        account_id = state.account_id
        items = [
            self._tx_delete(
                keys.account(account_id),
                ConditionExpression="last_used_day = :day AND due_pk = :warned AND warned_on = :warned_on",
                ExpressionAttributeValues=attribute_values(
                    {
                        ":day": record.last_used_day.isoformat(),
                        ":warned": keys.due_partition("idle-warned", account_id),
                        ":warned_on": record.warned_on.isoformat(),
                    }
                ),
            ),
            self._tx_delete(
                keys.person(state.person_index),
                ConditionExpression="attribute_not_exists(pk) OR account_id = :account",
                ExpressionAttributeValues=attribute_values({":account": account_id}),
            ),
            self._put(
                {
                    **keys.purge_record(account_id).as_dict(),
                    "account_id": account_id,
                    "last_used_day": record.last_used_day.isoformat(),
                    "warned_on": record.warned_on.isoformat(),
                    "purged_at": iso(record.purged_at),
                    # Until the rest of the account is deleted (a crash midway is finished by
                    # the next run).
                    "due_pk": keys.PURGING,
                    "due_sk": f"{iso(record.purged_at)}#{account_id}",
                    "expires_at": epoch_seconds(record.retain_until),
                }
            ),
        ]
        self._transact(items, ["account", "person", "record"])

    def revoke_for_purge(
        self, account_id: str, serial_number: int, at: datetime, entry: HistoryEntry
    ) -> bool:
        serial = self._serial_status_item(
            serial_number,
            SerialStatus.REVOKED,
            at=at,
            reason=RevocationReason.CESSATION_OF_OPERATION.value,
            only_from=(SerialStatus.ISSUED, SerialStatus.SUSPENDED),
        )
        try:
            self._transact([serial, self._put_history(account_id, entry)], ["serial", "history"])
        except ConditionFailed as e:
            if e.reasons == ["serial"]:
                return False  # revoked (or expired from its record) before: nothing to do
            # The audit entry's condition (or anything else): the revocation did not happen,
            # and the purge must not go on to delete the key of a certificate still "good".
            raise
        return True

    def account_partition(self, account_id: str) -> list[PartitionItem]:
        """Every item under ACCT#<account> (keys, status and serial only): a bounded set."""
        items = self._query_all(
            KeyConditionExpression="pk = :pk",
            ProjectionExpression="sk, #status, serial, not_after",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=attribute_values({":pk": keys.account_pk(account_id)}),
            ConsistentRead=True,
        )
        return [
            PartitionItem(
                item["sk"],
                item.get("status"),
                int(item["serial"], 16) if item.get("serial") else None,
                from_iso(item["not_after"]) if item.get("not_after") else None,
            )
            for item in items
        ]

    def delete_account_items(self, account_id: str, sort_keys: Sequence[str]) -> None:
        """Deletes these items of the account's partition (BatchWriteItem, 25 at a time)."""
        pk = keys.account_pk(account_id)
        for start in range(0, len(sort_keys), 25):
            batch = sort_keys[start : start + 25]
            pending = [{"DeleteRequest": {"Key": self._key(keys.Key(pk, sk))}} for sk in batch]
            for _ in range(_BATCH_ATTEMPTS):
                with aws_call("DynamoDB"):
                    response = self._client().batch_write_item(RequestItems={self._table: pending})
                pending = response.get("UnprocessedItems", {}).get(self._table, [])
                if not pending:
                    break
            if pending:
                raise ServiceUnavailable("DynamoDB left deletes unprocessed, retry", retry_after=1)

    def finish_purge(self, account_id: str, now: datetime, revoked: Sequence[int], deleted: int) -> None:
        self._update(
            keys.purge_record(account_id),
            UpdateExpression=(
                "SET finished_at = :now, items_deleted = :deleted, revoked_serials = :revoked"
                " REMOVE due_pk, due_sk"
            ),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=attribute_values(
                {
                    ":now": iso(now),
                    ":deleted": deleted,
                    ":revoked": [keys.serial_hex(s) for s in revoked],
                }
            ),
        )
