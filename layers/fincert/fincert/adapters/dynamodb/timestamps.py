"""The time-stamping authority's items: its certificate record (CA / TSA), the ledger of tokens
issued (TSTOKEN#<serial>) and the per-institution rate-limit counter. A module of its own, wired
on its own (fincert.wiring), so the records can move under the audit prefix without touching
the rest of the store."""

from __future__ import annotations

import contextlib
import math
from datetime import datetime, timedelta

from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.issuance import IssuanceTable
from fincert.adapters.dynamodb.items import timestamp_item
from fincert.adapters.dynamodb.table import as_bytes, attribute_values, epoch_seconds, from_iso, iso
from fincert.domain.rate_limits import RateLimit
from fincert.domain.timestamp_records import TimestampAuthorityRecord, TimestampRecord
from fincert.errors import ConditionFailed, RateLimited


class TimestampTable(IssuanceTable):
    def get_timestamp_authority(self) -> TimestampAuthorityRecord | None:
        item = self._get(keys.TIMESTAMP_AUTHORITY, consistent=False)
        if item is None:
            return None
        return TimestampAuthorityRecord(
            key_id=item["key_id"],
            certificate_der=as_bytes(item["certificate"]),
            serial_number=int(item["serial"], 16),
            not_after=from_iso(item["not_after"]),
            created_at=from_iso(item["created_at"]),
        )

    def put_timestamp_authority(self, record: TimestampAuthorityRecord) -> None:
        item = {
            **keys.TIMESTAMP_AUTHORITY.as_dict(),
            "key_id": record.key_id,
            "certificate": record.certificate_der,
            "serial": keys.serial_hex(record.serial_number),
            "not_after": iso(record.not_after),
            "created_at": iso(record.created_at),
        }
        # The certificate is stored and its pre-signing record becomes issued in one step: the
        # reconciler never revokes a TSA certificate in use, and never misses one left unstored.
        try:
            self._transact(
                [self._put(item), self._mark_serial_issued(record.serial_number)], ["tsa", "serial"]
            )
        except ConditionFailed as e:
            raise ConditionFailed("a TSA exists already, or its serial was revoked") from e

    def record(self, entry: TimestampRecord) -> None:
        self._put_new(timestamp_item(entry))

    def take_slot(self, limit: RateLimit, now: datetime) -> None:
        window_end = limit.window_start + timedelta(seconds=limit.window_seconds)
        try:
            self._update(
                keys.rate_limit(limit.scope, limit.subject, iso(limit.window_start)),
                UpdateExpression="ADD #n :one SET expires_at = :ttl",
                ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                ExpressionAttributeNames={"#n": "count"},
                ExpressionAttributeValues=attribute_values(
                    {":one": 1, ":limit": limit.limit, ":ttl": epoch_seconds(window_end)}
                ),
            )
        except ConditionFailed as e:
            retry_after = max(1, math.ceil((window_end - now).total_seconds()))
            raise RateLimited(
                "too many timestamps this minute, retry later",
                code="timestamp_rate_limited",
                retry_after=retry_after,
                limit=limit.scope,
            ) from e

    def give_back_slot(self, limit: RateLimit) -> None:
        # A counter that aged out (TTL) with its minute has nothing to give back.
        with contextlib.suppress(ConditionFailed):
            self._update(
                keys.rate_limit(limit.scope, limit.subject, iso(limit.window_start)),
                UpdateExpression="ADD #n :minus_one",
                ConditionExpression="attribute_exists(#n)",
                ExpressionAttributeNames={"#n": "count"},
                ExpressionAttributeValues=attribute_values({":minus_one": -1}),
            )
