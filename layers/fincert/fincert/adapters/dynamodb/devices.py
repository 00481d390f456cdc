"""Registered devices (at most 5 per account), their single-use connection challenges, and the connection a device signature opens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fincert.adapters.aws_errors import aws_call
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import (
    SharedItems,
    session_item,
)
from fincert.adapters.dynamodb.table import (
    as_bytes,
    attribute_values,
    epoch_seconds,
    from_iso,
    from_millis,
    iso,
    load_item,
    millis,
)
from fincert.clock import kst_date
from fincert.domain.device_records import Device, DeviceChallenge
from fincert.domain.history_records import HistoryEntry
from fincert.domain.session_records import Session
from fincert.errors import ConditionFailed


class DeviceTable(SharedItems):
    # --- customers: devices ----------------------------------------------------------------------
    def _to_device(self, account_id: str, item: dict[str, Any]) -> Device:
        last = item.get("last_used_at")
        return Device(
            device_id=item["sk"].removeprefix(keys.DEVICE_PREFIX),
            account_id=account_id,
            name=item["name"],
            public_key_der=as_bytes(item["public_key"]),
            created_at=from_iso(item["created_at"]),
            last_used_at=from_iso(last) if last else None,
            key_fingerprint=item.get("key_fingerprint", ""),
        )

    def add_device(self, device: Device, max_devices: int, history: HistoryEntry) -> None:
        """Raises ConditionFailed("account") when the account already has max_devices (or is gone),
        ConditionFailed("device_key") when this account already has a device with this key: the
        key's item is written in the same transaction as the device, on condition it is new."""
        self._transact(
            [
                self._tx_update(
                    keys.account(device.account_id),
                    UpdateExpression="ADD device_count :one",
                    ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(device_count) OR device_count < :max)",
                    ExpressionAttributeValues=attribute_values({":one": 1, ":max": max_devices}),
                ),
                self._put(
                    {
                        **keys.device_key(device.account_id, device.key_fingerprint).as_dict(),
                        "device_id": device.device_id,
                    }
                ),
                self._put(
                    {
                        **keys.device(device.account_id, device.device_id).as_dict(),
                        "name": device.name,
                        "public_key": device.public_key_der,
                        "key_fingerprint": device.key_fingerprint,
                        "created_at": iso(device.created_at),
                    }
                ),
                self._put_history(device.account_id, history),
            ],
            ["account", "device_key", "device", "history"],
        )

    def remove_device(self, account_id: str, device_id: str, history: HistoryEntry) -> None:
        """Raises ConditionFailed("device") when there is no such device. Deletes the key's item
        with the device (only if it names this device), which frees the key for a new one."""
        stored = self._get(keys.device(account_id, device_id))
        if stored is None:
            raise ConditionFailed("no such device", reasons=["device"])
        fingerprint = stored.get("key_fingerprint", "")
        device_condition: dict[str, Any] = {"ConditionExpression": "attribute_exists(pk)"}
        key_item: list[dict[str, Any]] = []
        if fingerprint:
            device_condition = {
                "ConditionExpression": "key_fingerprint = :fingerprint",
                "ExpressionAttributeValues": attribute_values({":fingerprint": fingerprint}),
            }
            key_item = [
                self._tx_delete(
                    keys.device_key(account_id, fingerprint),
                    ConditionExpression="device_id = :device",
                    ExpressionAttributeValues=attribute_values({":device": device_id}),
                )
            ]
        self._transact(
            [
                self._tx_delete(keys.device(account_id, device_id), **device_condition),
                self._tx_update(
                    keys.account(account_id),
                    UpdateExpression="ADD device_count :minus_one",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=attribute_values({":minus_one": -1}),
                ),
                self._put_history(account_id, history),
                *key_item,
            ],
            ["device", "account", "history", "device_key"][: 3 + len(key_item)],
        )

    def list_devices(self, account_id: str) -> list[Device]:
        with aws_call("DynamoDB"):
            page = self._client().query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :device)",
                ExpressionAttributeValues=attribute_values(
                    {":pk": keys.account_pk(account_id), ":device": keys.DEVICE_PREFIX}
                ),
                ConsistentRead=True,
            )
        return [self._to_device(account_id, load_item(item)) for item in page.get("Items", [])]

    def get_device(self, account_id: str, device_id: str) -> Device | None:
        item = self._get(keys.device(account_id, device_id))
        return self._to_device(account_id, item) if item else None

    def put_device_challenge(self, challenge: DeviceChallenge) -> None:
        self._transact(
            [
                self._check_account_exists(challenge.account_id),
                self._put(
                    {
                        **keys.device_challenge(challenge.account_id, challenge.challenge_id).as_dict(),
                        "device_id": challenge.device_id,
                        "institution_id": challenge.institution_id,
                        "nonce": challenge.nonce,
                        "valid_until": millis(challenge.expires_at),
                        "used": False,
                        "expires_at": epoch_seconds(challenge.expires_at),
                    }
                ),
            ],
            ["account", "challenge"],
        )

    def get_device_challenge(self, account_id: str, challenge_id: str) -> DeviceChallenge | None:
        item = self._get(keys.device_challenge(account_id, challenge_id))
        if item is None:
            return None
        return DeviceChallenge(
            challenge_id=challenge_id,
            account_id=account_id,
            device_id=item["device_id"],
            institution_id=item["institution_id"],
            nonce=as_bytes(item["nonce"]),
            expires_at=from_millis(item["valid_until"]),
            used=bool(item.get("used", False)),
        )

    def fail_device_challenge(self, challenge: DeviceChallenge, now: datetime, history: HistoryEntry) -> None:
        self._transact(
            [
                self._use_device_challenge(challenge, now),
                self._put_history(challenge.account_id, history),
            ],
            ["challenge", "history"],
        )

    def _use_device_challenge(self, challenge: DeviceChallenge, now: datetime) -> dict[str, Any]:
        return self._tx_update(
            keys.device_challenge(challenge.account_id, challenge.challenge_id),
            UpdateExpression="SET used = :true",
            ConditionExpression="used = :false AND valid_until > :now",
            ExpressionAttributeValues=attribute_values({":true": True, ":false": False, ":now": millis(now)}),
        )

    def complete_device_connection(
        self, challenge: DeviceChallenge, session: Session, now: datetime, history: HistoryEntry
    ) -> None:
        """Uses the challenge once (unexpired), on condition that the device is still registered
        and the account exists, and opens the session."""
        self._transact(
            [
                self._use_device_challenge(challenge, now),
                self._tx_update(
                    keys.device(challenge.account_id, challenge.device_id),
                    UpdateExpression="SET last_used_at = :at",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=attribute_values({":at": iso(now)}),
                ),
                self._touch_account(challenge.account_id, kst_date(now)),
                self._put(session_item(session)),
                self._put_history(challenge.account_id, history),
            ],
            ["challenge", "device", "account", "session", "history"],
        )
