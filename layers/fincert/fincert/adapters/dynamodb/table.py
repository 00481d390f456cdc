"""The table primitives every aggregate module builds on: attribute (de)serialisation, the
time formats items store, and one get / put / update / transact / query helper each, which
translate DynamoDB's condition failures into domain errors. Knows no item shapes."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from fincert.adapters.aws_errors import aws_call, error_code
from fincert.adapters.dynamodb.keys import Key
from fincert.errors import ConditionFailed, ServiceUnavailable

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# --- time formats ---------------------------------------------------------------------------
def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_ISO_SECONDS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def from_iso(text: str) -> datetime:
    # What iso() writes, parsed without strptime (~10x its speed; several per request); anything
    # else, or an impossible date, goes to strptime as before, its errors included.
    match = _ISO_SECONDS.fullmatch(text)
    if match is not None:
        with contextlib.suppress(ValueError):
            year, month, day, hour, minute, second = map(int, match.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def iso_millis(moment: datetime) -> str:
    # History sort keys: millisecond precision keeps a burst of events in order.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def from_iso_millis(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_millis(value: Decimal | int) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def epoch_seconds(moment: datetime) -> int:
    """A TTL attribute's value."""
    return math.ceil(moment.timestamp())


# --- attribute values -----------------------------------------------------------------------
def as_bytes(value: Any) -> bytes:
    return bytes(value.value) if isinstance(value, Binary) else bytes(value)


# boto3's TypeSerializer tries each type in turn with isinstance checks, ~3 us a value and tens of
# values per request. The exact types most values have take a shortcut to the same answer; every
# other value (StrEnum members, Decimal, Binary, empty or mixed sets, maps, lists, None, ints past
# DynamoDB's 38 digits) goes through boto3 as before. tests/unit/test_dynamodb_table.py holds the two together.
_EXACT_INT_LIMIT = 10**38  # DYNAMODB_CONTEXT's precision: below it str(int) is boto3's "N" as is


def serialize(value: Any) -> dict[str, Any]:
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int and -_EXACT_INT_LIMIT < value < _EXACT_INT_LIMIT:
        return {"N": str(value)}
    if kind is bytes:
        return {"B": value}
    if (kind is set or kind is frozenset) and value and all(type(member) is str for member in value):
        return {"SS": list(value)}
    return _serializer.serialize(value)


def deserialize(value: dict[str, Any]) -> Any:
    if len(value) == 1:
        ((kind, wire),) = value.items()
        # What TypeDeserializer's _deserialize_s / _n / _b / _bool / _ss return.
        if kind == "S" or kind == "BOOL":
            return wire
        if kind == "N":
            return DYNAMODB_CONTEXT.create_decimal(wire)
        if kind == "B":
            return Binary(wire)
        if kind == "SS":
            return set(wire)
    return _deserializer.deserialize(value)


def dump_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: serialize(v) for k, v in item.items() if v is not None}


def load_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: deserialize(v) for k, v in item.items()}


def attribute_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: serialize(v) for k, v in values.items()}


def status_in(statuses: Sequence[StrEnum], values: dict[str, Any], prefix: str) -> str:
    """`#status IN (...)` over these statuses, adding their placeholders to `values`."""
    placeholders = []
    for i, status in enumerate(statuses):
        values[f"{prefix}{i}"] = status.value
        placeholders.append(f"{prefix}{i}")
    return f"#status IN ({', '.join(placeholders)})"


class Table:
    """One DynamoDB table, reached through a client factory (created lazily, after moto)."""

    def __init__(self, client: Callable[[], Any], table_name: str):
        self._client = client
        self._table = table_name

    def _key(self, key: Key) -> dict[str, Any]:
        return dump_item(key.as_dict())

    def _query_all(self, **query: Any) -> list[dict[str, Any]]:
        """Every item a Query matches, following its pages (1 MB each)."""
        items: list[dict[str, Any]] = []
        start_key = None
        while True:
            page_query = query | ({"ExclusiveStartKey": start_key} if start_key else {})
            with aws_call("DynamoDB"):
                page = self._client().query(TableName=self._table, **page_query)
            items += [load_item(raw) for raw in page.get("Items", [])]
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return items

    def _get(self, key: Key, consistent: bool = True) -> dict[str, Any] | None:
        with aws_call("DynamoDB"):
            response = self._client().get_item(
                TableName=self._table, Key=self._key(key), ConsistentRead=consistent
            )
        item = response.get("Item")
        return load_item(item) if item else None

    def _batch_get(self, batch: Sequence[Key], consistent: bool = True) -> list[dict[str, Any] | None]:
        """The items at these keys (at most 100), in their order, None where there is none; one
        round trip (a partial answer is a fault: 503)."""
        with aws_call("DynamoDB"):
            response = self._client().batch_get_item(
                RequestItems={
                    self._table: {"Keys": [self._key(key) for key in batch], "ConsistentRead": consistent}
                }
            )
        if response.get("UnprocessedKeys"):
            raise ServiceUnavailable("DynamoDB did not return every item, retry", retry_after=1)
        found = {
            (item["pk"], item["sk"]): item
            for item in map(load_item, response["Responses"].get(self._table, []))
        }
        return [found.get((key.pk, key.sk)) for key in batch]

    def _delete_if(self, key: Key, condition: str) -> None:
        """One conditional DeleteItem; raises ConditionFailed when the condition does not hold."""
        try:
            with aws_call("DynamoDB"):
                self._client().delete_item(
                    TableName=self._table, Key=self._key(key), ConditionExpression=condition
                )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise ConditionFailed(f"{key.pk} {key.sk}: condition failed") from e
            raise

    def _put_new(self, item: dict[str, Any]) -> None:
        self._put_if(item, "attribute_not_exists(pk)")

    def _put_if(self, item: dict[str, Any], condition: str, values: dict[str, Any] | None = None) -> None:
        """One conditional PutItem; raises ConditionFailed when the condition does not hold."""
        request: dict[str, Any] = {"ConditionExpression": condition}
        if values:
            request["ExpressionAttributeValues"] = attribute_values(values)
        try:
            with aws_call("DynamoDB"):
                self._client().put_item(TableName=self._table, Item=dump_item(item), **request)
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise ConditionFailed(f"{item['pk']} {item['sk']}: condition failed") from e
            raise

    def _update(self, key: Key, **request: Any) -> dict[str, Any]:
        """One UpdateItem; a failed condition raises ConditionFailed, carrying the stored item
        when the request asked for it (ReturnValuesOnConditionCheckFailure)."""
        try:
            with aws_call("DynamoDB"):
                response: dict[str, Any] = self._client().update_item(
                    TableName=self._table, Key=self._key(key), **request
                )
                return response
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                stored = e.response.get("Item")
                raise ConditionFailed(
                    f"{key.pk} condition failed", stored=load_item(stored) if stored else None
                ) from e
            raise

    def _transact(self, items: list[dict[str, Any]], names: list[str], token: str | None = None) -> None:
        """Runs a transaction; a failed condition becomes ConditionFailed naming the items.
        With a token, botocore's retry of a transaction whose answer was lost is idempotent
        (DynamoDB recognises the token for 10 minutes) instead of failing its own conditions."""
        request: dict[str, Any] = {"TransactItems": items}
        if token:
            request["ClientRequestToken"] = token
        try:
            with aws_call("DynamoDB"):
                self._client().transact_write_items(**request)
        except ClientError as e:
            if error_code(e) != "TransactionCanceledException":
                raise
            reasons = e.response.get("CancellationReasons", [])
            failed = [
                names[i] for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"
            ]
            if not failed:
                # Cancelled for a conflict with another transaction or throttling: retryable.
                raise ServiceUnavailable("DynamoDB transaction conflict, retry", retry_after=1) from e
            raise ConditionFailed("transaction condition failed", reasons=failed) from e

    # --- transaction items ------------------------------------------------------------------
    def _put(self, item: dict[str, Any], *, new: bool = True) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": dump_item(item)}
        if new:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}

    def _tx_update(self, key: Key, **body: Any) -> dict[str, Any]:
        return {"Update": {"TableName": self._table, "Key": self._key(key), **body}}

    def _tx_delete(self, key: Key, **body: Any) -> dict[str, Any]:
        return {"Delete": {"TableName": self._table, "Key": self._key(key), **body}}

    def _tx_check(self, key: Key, **body: Any) -> dict[str, Any]:
        return {"ConditionCheck": {"TableName": self._table, "Key": self._key(key), **body}}
