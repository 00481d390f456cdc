"""Reading the single table the way the service stored it, in process (moto) or in the running
local stack (its moto server). Every key is built by fincert.adapters.dynamodb.keys: a key format
changes there or nowhere."""

from __future__ import annotations

import boto3
from boto3.dynamodb.types import TypeDeserializer
from fincert.adapters.dynamodb import keys
from fincert.wiring import Services, services

from tests.support.in_process import REGION
from tests.support.stack import RunningStack

_deserialize = TypeDeserializer().deserialize


def plain(item: dict) -> dict:
    """An item as the low-level client returns it ({"S": ...}), as Python values."""
    return {name: _deserialize(value) for name, value in item.items()}


def typed_key(key: keys.Key) -> dict[str, dict[str, str]]:
    """A key as the low-level client takes it."""
    return {"pk": {"S": key.pk}, "sk": {"S": key.sk}}


# --- what an item is, by its key -------------------------------------------------------------
def is_account(item: dict) -> bool:
    return item["sk"] == keys.ACCOUNT_SK and item["pk"].startswith(keys.ACCOUNT_PREFIX)


def is_credential(item: dict) -> bool:
    return item["pk"].startswith(keys.ACCOUNT_PREFIX) and item["sk"].startswith(keys.CREDENTIAL_PREFIX)


def is_serial(item: dict) -> bool:
    return item["sk"] == keys.SERIAL_SK and item["pk"].startswith(keys.SERIAL_PREFIX)


def is_enrollment(item: dict) -> bool:
    return item["sk"] == keys.ENROLLMENT_SK and item["pk"].startswith(keys.ENROLLMENT_PREFIX)


def is_rate_limit(item: dict) -> bool:
    return item["pk"].startswith(keys.RATE_LIMIT_PREFIX)


def is_person(item: dict) -> bool:
    return item["pk"].startswith(keys.PERSON_PREFIX)


def is_presigned(item: dict) -> bool:
    """A SERIAL record whose certificate was never stored (the reconciler's `due` entry)."""
    return item.get("due_pk") == keys.PRESIGNED


def of_account(item: dict, account_id: str) -> bool:
    return item["pk"] == keys.account_pk(account_id)


def credential_in(items: list[dict], credential_id: str) -> dict:
    """The CRED item of a credential among items (whichever account holds it)."""
    return next(i for i in items if is_credential(i) and keys.credential_id_of(i["sk"]) == credential_id)


def serials_in(items: list[dict]) -> dict[int, dict]:
    """The SERIAL records among items, by serial number."""
    return {keys.serial_number_of(i["pk"]): i for i in items if is_serial(i)}


class Table:
    """One DynamoDB table through a low-level client; reads are consistent."""

    def __init__(self, client, name: str):
        self.client = client
        self.name = name

    @classmethod
    def in_process(cls, svc: Services | None = None) -> Table:
        """The services' table in moto (inside the `aws` fixture). The client is not the
        services' own, so the AWS calls the tests count do not see these reads."""
        return cls(boto3.client("dynamodb", region_name=REGION), (svc or services()).settings.table_name)

    @classmethod
    def of_stack(cls, stack: RunningStack) -> Table:
        return cls(stack.dynamodb(), stack.table_name)

    def items(self) -> list[dict]:
        pages = self.client.get_paginator("scan").paginate(TableName=self.name)
        return [plain(item) for page in pages for item in page["Items"]]

    def get(self, key: keys.Key) -> dict | None:
        found = self.client.get_item(TableName=self.name, Key=typed_key(key), ConsistentRead=True)
        return plain(found["Item"]) if "Item" in found else None

    def account(self, account_id: str) -> dict | None:
        return self.get(keys.account(account_id))

    def accounts(self) -> list[dict]:
        return [i for i in self.items() if is_account(i)]

    def credential(self, credential_id: str) -> dict:
        """A CRED item by its credential id alone (whichever account holds it)."""
        return credential_in(self.items(), credential_id)

    def account_of(self, credential_id: str) -> str:
        return keys.account_id_of(self.credential(credential_id)["pk"])

    def credentials(self, account_id: str | None = None) -> dict[str, dict]:
        """The CRED items by credential id: one account's, or every account's."""
        return {
            keys.credential_id_of(i["sk"]): i
            for i in self.items()
            if is_credential(i) and (account_id is None or of_account(i, account_id))
        }

    def active(self, account_id: str) -> list[str]:
        return [cid for cid, c in self.credentials(account_id).items() if c["status"] == "active"]

    def serial_record(self, serial: int | str) -> dict | None:
        """The SERIAL record of a serial number (an int, or hex as the API gives it)."""
        return self.get(keys.serial(int(serial, 16) if isinstance(serial, str) else serial))

    def presigned(self) -> list[dict]:
        return [i for i in self.items() if is_presigned(i)]


# --- the in-process table (inside the `aws` fixture) ----------------------------------------
def table_items(svc: Services | None = None) -> list[dict]:
    return Table.in_process(svc).items()


def item(key: keys.Key) -> dict | None:
    return Table.in_process().get(key)


def account_item(account_id: str) -> dict | None:
    return Table.in_process().account(account_id)


def credential_item(credential_id: str) -> dict:
    return Table.in_process().credential(credential_id)


def account_of(credential_id: str) -> str:
    return Table.in_process().account_of(credential_id)


def credentials(account_id: str | None = None) -> dict[str, dict]:
    return Table.in_process().credentials(account_id)


def active(account_id: str) -> list[str]:
    return Table.in_process().active(account_id)


def serial_record(serial: int | str) -> dict | None:
    return Table.in_process().serial_record(serial)
