"""Audit entries, which are also the customer's usage history: HIST# items in the account's
AUDIT# partition (fincert.adapters.dynamodb.keys), written once and never changed."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from fincert.adapters.aws_errors import aws_call
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    SharedItems,
    history_item,
    to_history,
)
from fincert.adapters.dynamodb.table import (
    attribute_values,
    epoch_seconds,
    from_iso_millis,
    load_item,
)
from fincert.domain.history_records import HistoryEntry
from fincert.domain.retention import audit_retained_until
from fincert.errors import ConditionFailed


def _audit_copy(legacy: dict[str, Any]) -> dict[str, Any]:
    """A HIST# line written under ACCT#<account> before audit entries had their own partition,
    as the audit entry it is: same sort key and attributes under AUDIT#<account>. Such a line
    never recorded its certificate's notAfter, so its TTL is the one retention gives an entry
    whose certificate is unknown (the longest validity assumed), never shorter than it had."""
    account_id = legacy["pk"].removeprefix(keys.ACCOUNT_PREFIX)
    retained = epoch_seconds(audit_retained_until(from_iso_millis(legacy["at"]), None))
    return {
        **legacy,
        "pk": keys.audit_pk(account_id),
        "expires_at": max(retained, int(legacy.get("expires_at") or 0)),
    }


class HistoryTable(SharedItems):
    def put_history(self, account_id: str, entry: HistoryEntry) -> None:
        """An audit entry on its own (a wrong PIN): no account condition, since the account may
        be what is missing. Written only if new, as every audit entry is: its key holds a random
        id, so one already there is this very entry, written by an attempt whose answer was lost
        and that botocore retried."""
        with contextlib.suppress(ConditionFailed):
            self._put_new(history_item(account_id, entry))

    def copy_legacy_history(self, account_id: str) -> int:
        """Copies every HIST# line still under ACCT#<account> to AUDIT#<account>, each only if
        not there yet (a migration or an earlier run copied it); returns how many it wrote."""
        legacy = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :hist)",
            ExpressionAttributeValues=attribute_values(
                {":pk": keys.account_pk(account_id), ":hist": keys.HISTORY_PREFIX}
            ),
            ConsistentRead=True,
        )
        return sum(self._copy_to_audit(item) for item in legacy)

    def migrate_legacy_history(
        self, start_key: dict[str, str] | None, page_size: int = 500
    ) -> tuple[int, int, dict[str, str] | None]:
        """One page of a Scan for HIST# lines under ACCT#, each copied to AUDIT# if not there
        yet: (copied, already there, where the next page starts or None at the end). A Scan
        reads the whole table; acceptable for a one-off operator migration, never for a request."""
        scan: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :acct) AND begins_with(sk, :hist)",
            "ExpressionAttributeValues": attribute_values(
                {":acct": keys.ACCOUNT_PREFIX, ":hist": keys.HISTORY_PREFIX}
            ),
            "ConsistentRead": True,
            "Limit": page_size,
        }
        if start_key:
            scan["ExclusiveStartKey"] = self._key(keys.Key(start_key["pk"], start_key["sk"]))
        with aws_call("DynamoDB"):
            page = self._client().scan(**scan)
        copied = already = 0
        for raw in page.get("Items", []):
            if self._copy_to_audit(load_item(raw)):
                copied += 1
            else:
                already += 1
        last = page.get("LastEvaluatedKey")
        next_key = None
        if last:
            loaded = load_item(last)
            next_key = {"pk": loaded["pk"], "sk": loaded["sk"]}
        return copied, already, next_key

    def _copy_to_audit(self, legacy: dict[str, Any]) -> bool:
        try:
            self._put_new(_audit_copy(legacy))
        except ConditionFailed:
            return False
        return True

    def list_history(
        self,
        account_id: str,
        limit: int,
        before: str | None,
        institution_id: str | None = None,
        content_values: Sequence[str] | None = None,
    ) -> tuple[list[HistoryEntry], str | None]:
        """Newest first; `before` is the sort key the previous page ended on. DynamoDB applies
        Limit before the filter, so a filtered page may come back short (even empty) with a cursor."""
        values = {":pk": keys.audit_pk(account_id), ":hist": keys.HISTORY_PREFIX}
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :hist)",
            "ScanIndexForward": False,
            "Limit": limit,
        }
        filters = []
        if institution_id is not None:
            filters.append("institution_id = :institution")
            values[":institution"] = institution_id
        if content_values:
            # A keyed value is 64 hex digits after its version, so a substring match is exact.
            matches = []
            for i, value in enumerate(content_values):
                matches.append(f"contains(#detail.#hashes, :content{i})")
                values[f":content{i}"] = value
            filters.append("(" + " OR ".join(matches) + ")")
            query["ExpressionAttributeNames"] = {"#detail": "detail", "#hashes": "hashes"}
        if filters:
            query["FilterExpression"] = " AND ".join(filters)
        query["ExpressionAttributeValues"] = attribute_values(values)
        if before:
            query["ExclusiveStartKey"] = self._key(keys.Key(keys.audit_pk(account_id), before))
        with aws_call("DynamoDB"):
            page = self._client().query(**query)
        entries = [to_history(load_item(item)) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return entries, (load_item(last)["sk"] if last else None)
