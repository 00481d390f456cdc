"""The unit tests' storage: the real DynamoStore over a moto table built from template.yaml,
a client that lets one request at a time into moto and records each operation, and a reader of
what the store wrote (keys from fincert.adapters.dynamodb.keys)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import to_account, to_credential
from fincert.adapters.dynamodb.store import DynamoStore
from fincert.adapters.dynamodb.table import dump_item, from_iso, load_item
from fincert.domain.account_records import Account, Credential
from fincert.domain.enrollment_records import Enrollment, PreSigningRecord
from fincert.domain.status_records import SerialRecord


class RecordingClient:
    """The store's DynamoDB client, letting one request at a time into moto and recording each.

    moto checks a condition and applies the write as two steps without a lock, so concurrent
    conditional writes could both pass (see fincert_local.stack._SerializeDynamoDB); DynamoDB makes
    each request atomic, and the store's invariants rely on it. `calls` lists the operations asked
    ("get_item", "transact_write_items", ...): one entry per round trip."""

    def __init__(self, client: Any):
        self._client = client
        self._lock = threading.Lock()
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls.append(name)
                return attribute(*args, **kwargs)

        return call


@dataclass(frozen=True)
class DynamoTable:
    client: Any  # a plain client, for the readers and for emptying the table
    name: str


class TableReader:
    """What the store holds, read with the adapter's read methods where it has one, else from the
    items (keys from fincert.adapters.dynamodb.keys). Its reads are not in `dynamodb.calls`."""

    def __init__(self, table: DynamoTable):
        self._table = table
        self._store = DynamoStore(lambda: table.client, table.name)

    def _scan(self) -> list[dict[str, Any]]:
        pages = self._table.client.get_paginator("scan").paginate(TableName=self._table.name)
        return [load_item(raw) for page in pages for raw in page.get("Items", [])]

    def _get(self, key: keys.Key) -> dict[str, Any] | None:
        raw = self._table.client.get_item(TableName=self._table.name, Key=dump_item(key.as_dict()))
        return load_item(raw["Item"]) if "Item" in raw else None

    def delete(self, key: keys.Key) -> None:
        self._table.client.delete_item(TableName=self._table.name, Key=dump_item(key.as_dict()))

    # people and accounts
    def accounts(self) -> list[Account]:
        return [
            to_account(keys.account_id_of(item["pk"]), item)
            for item in self._scan()
            if item["pk"].startswith(keys.ACCOUNT_PREFIX) and item["sk"] == keys.ACCOUNT_SK
        ]

    def person_count(self) -> int:
        return sum(1 for item in self._scan() if item["pk"].startswith(keys.PERSON_PREFIX))

    def registrations_of(self, account_id: str) -> frozenset[str]:
        """The institutions the account is registered with."""
        account = self._store.get_account(account_id)
        return account.institutions if account else frozenset()

    # credentials
    def _credential_items(self) -> list[dict[str, Any]]:
        return [
            item
            for item in self._scan()
            if item["pk"].startswith(keys.ACCOUNT_PREFIX) and item["sk"].startswith(keys.CREDENTIAL_PREFIX)
        ]

    def credentials_of(self, account_id: str) -> list[Credential]:
        return [c for c in self.all_credentials() if c.account_id == account_id]

    def all_credentials(self) -> list[Credential]:
        return [to_credential(keys.account_id_of(item["pk"]), item) for item in self._credential_items()]

    def revocation_of(self, account_id: str, credential_id: str) -> tuple[datetime, str] | None:
        """When and why the credential was revoked, as its CRED item records it."""
        item = self._get(keys.credential(account_id, credential_id))
        if item is None or "revoked_at" not in item:
            return None
        return from_iso(item["revoked_at"]), item["revocation_reason"]

    # enrollments and rate limits
    def enrollment(self, enrollment_id: str) -> Enrollment | None:
        item = self._get(keys.enrollment(enrollment_id))
        # The adapter's own reading of the item (the port has no plain read of an enrollment).
        return self._store._to_enrollment(item) if item else None

    def enrollment_count(self) -> int:
        return sum(1 for item in self._scan() if item["pk"].startswith(keys.ENROLLMENT_PREFIX))

    def rate_counts(self) -> dict[keys.Key, int]:
        """Every rate-limit counter: its key (scope and subject, window start) and its count."""
        return {
            keys.Key(item["pk"], item["sk"]): int(item["count"])
            for item in self._scan()
            if item["pk"].startswith(keys.RATE_LIMIT_PREFIX)
        }

    # serials
    def serial_record(self, serial_number: int) -> SerialRecord | None:
        return self._store.get_serial_status(serial_number)

    def serial_status(self, serial_number: int) -> str | None:
        record = self.serial_record(serial_number)
        return record.status.value if record else None

    def serial_count(self) -> int:
        return sum(1 for item in self._scan() if item["pk"].startswith(keys.SERIAL_PREFIX))

    def presigned(self) -> list[PreSigningRecord]:
        """The `due` index's "presigned" partition: signed (maybe) but never stored, oldest first."""
        records = []
        for serial in self._store.presigned_before(datetime(9999, 1, 1, tzinfo=UTC), 1000):
            item = self._get(keys.serial(serial))
            assert item is not None
            records.append(
                PreSigningRecord(
                    serial_number=serial,
                    credential_id=item["credential_id"],
                    account_id=item["account_id"],
                    tbs_sha256=item["tbs_sha256"],
                    not_after=from_iso(item["not_after"]),
                    created_at=from_iso(item["created_at"]),
                )
            )
        return records
