"""SERIAL records as OCSP and the CRLs read them, and the one write that changes a serial's status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fincert.adapters.aws_errors import aws_call
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    SharedItems,
    serial_status_update,
    to_serial_record,
)
from fincert.adapters.dynamodb.table import (
    attribute_values,
    load_item,
)
from fincert.domain.status_records import SerialRecord, SerialStatus
from fincert.errors import ConditionFailed


class SerialTable(SharedItems):
    def set_serial_status(
        self,
        serial_number: int,
        status: SerialStatus,
        *,
        at: datetime,
        reason: str | None = None,
        only_from: Sequence[SerialStatus] = (),
    ) -> bool:
        """serial_status_update as one UpdateItem; False when its condition failed (no such
        record, or not in one of the `only_from` states)."""
        request = serial_status_update(serial_number, status, at=at, reason=reason, only_from=only_from)
        try:
            self._update(keys.serial(serial_number), **request)
        except ConditionFailed:
            return False
        return True

    def get_serial_status(self, serial_number: int) -> SerialRecord | None:
        # Strongly consistent: a status change must show in the very next OCSP answer.
        with aws_call("DynamoDB"):
            response = self._client().get_item(
                TableName=self._table,
                Key=self._key(keys.serial(serial_number)),
                ConsistentRead=True,
                ProjectionExpression="#status, revoked_at, revocation_reason",
                ExpressionAttributeNames={"#status": "status"},
            )
        item = response.get("Item")
        return to_serial_record(serial_number, load_item(item)) if item else None

    def crl_entries(self, partition: str) -> list[SerialRecord]:
        """Every revoked or suspended serial of one CRL partition: one Query of the sparse `crl`
        index (paginated past 1 MB), reading only what the CRL lists."""
        items = self._query_all(
            IndexName="crl",
            KeyConditionExpression="crl_pk = :partition",
            ExpressionAttributeValues=attribute_values({":partition": partition}),
        )
        return [to_serial_record(int(item["crl_sk"], 16), item) for item in items]
