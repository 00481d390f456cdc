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
    load_item,
)
from fincert.domain.model import (
    HistoryEntry,
)
from fincert.errors import ConditionFailed


class HistoryTable(SharedItems):
    def put_history(self, account_id: str, entry: HistoryEntry) -> None:
        """An audit entry on its own (a wrong PIN): no account condition, since the account may
        be what is missing. Written only if new, as every audit entry is: its key holds a random
        id, so one already there is this very entry, written by an attempt whose answer was lost
        and that botocore retried."""
        with contextlib.suppress(ConditionFailed):
            self._put_new(history_item(account_id, entry))

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
