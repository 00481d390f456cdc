"""The customer's usage history (HIST# items under the account)."""

from __future__ import annotations

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
    dump_item,
    load_item,
)
from fincert.domain.model import (
    HistoryEntry,
)


class HistoryTable(SharedItems):
    def put_history(self, account_id: str, entry: HistoryEntry) -> None:
        """A history line on its own (a wrong PIN, a failed connection): no account condition,
        since the account may be what is missing; it expires with the retention period."""
        with aws_call("DynamoDB"):
            self._client().put_item(TableName=self._table, Item=dump_item(history_item(account_id, entry)))

    def list_history(
        self, account_id: str, limit: int, before: str | None, institution_id: str | None = None
    ) -> tuple[list[HistoryEntry], str | None]:
        """Newest first; `before` is the sort key the previous page ended on. DynamoDB applies
        Limit before the filter, so a filtered page may come back short (even empty) with a cursor."""
        values = {":pk": keys.account_pk(account_id), ":hist": keys.HISTORY_PREFIX}
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :hist)",
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if institution_id is not None:
            query["FilterExpression"] = "institution_id = :institution"
            values[":institution"] = institution_id
        query["ExpressionAttributeValues"] = attribute_values(values)
        if before:
            query["ExclusiveStartKey"] = self._key(keys.Key(keys.account_pk(account_id), before))
        with aws_call("DynamoDB"):
            page = self._client().query(**query)
        entries = [to_history(load_item(item)) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return entries, (load_item(last)["sk"] if last else None)
