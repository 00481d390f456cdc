"""Storage for the domain unit tests: the real adapter (fincert.adapters.dynamodb.store.DynamoStore)
on moto, with template.yaml's table, and readers of what it stored.

The table is created once per module (fincert_local.resources.create_resources with template.yaml's
table alone: its KMS keys and queues are moto's slowest part, and these tests use the fake KMS and
SMS), and emptied before each test. Keys are built only with fincert.adapters.dynamodb.keys and
items read back with the adapter's own item shapes, so these tests cannot drift from the table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from fincert.adapters.dynamodb.store import DynamoStore
from fincert_local.resources import create_resources
from fincert_local.template import load_template, resources_of_type
from moto import mock_aws

from tests.support.unit_store import DynamoTable, RecordingClient, TableReader

REGION = "ap-northeast-2"


@pytest.fixture(scope="module")
def dynamodb_table() -> Iterator[DynamoTable]:
    """template.yaml's table in moto, for the whole module."""
    template = load_template()
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    with pytest.MonkeyPatch.context() as env:
        # As tests/conftest.py's _offline_aws_environment, which runs only per test.
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.setenv(name, "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        env.delenv("AWS_PROFILE", raising=False)
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            session = boto3.session.Session()
            resources = create_resources(
                {**template, "Resources": dict(tables)}, region=REGION, session=session
            )
            (logical_id,) = tables
            yield DynamoTable(session.client("dynamodb", region_name=REGION), resources.refs[logical_id])


def _empty(table: DynamoTable) -> None:
    pages = table.client.get_paginator("scan").paginate(TableName=table.name, ProjectionExpression="pk, sk")
    stored = [item for page in pages for item in page.get("Items", [])]
    for start in range(0, len(stored), 25):  # BatchWriteItem's limit
        requests = [{"DeleteRequest": {"Key": key}} for key in stored[start : start + 25]]
        table.client.batch_write_item(RequestItems={table.name: requests})


@pytest.fixture
def dynamodb(dynamodb_table: DynamoTable) -> RecordingClient:
    """An empty table, and the client the store reaches it through (its `calls` start empty)."""
    _empty(dynamodb_table)
    return RecordingClient(dynamodb_table.client)


@pytest.fixture
def store(dynamodb: RecordingClient, dynamodb_table: DynamoTable) -> DynamoStore:
    """The real store on an empty table; what it asks of DynamoDB is in `dynamodb.calls`."""
    return DynamoStore(lambda: dynamodb, dynamodb_table.name)


# --- reading what was stored ---------------------------------------------------------------------
@pytest.fixture
def table(dynamodb: RecordingClient, dynamodb_table: DynamoTable) -> TableReader:
    return TableReader(dynamodb_table)


# --- faults --------------------------------------------------------------------------------------
@pytest.fixture
def fail_next(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any, str, BaseException], None]:
    """`fail_next(store, "commit_issuance", exc)`: the next call of that port method raises `exc`
    before touching anything (an AWS fault); later calls go to the store as usual."""

    def arm(target: Any, method: str, exc: BaseException) -> None:
        real = getattr(target, method)
        pending = [exc]

        def once(*args: Any, **kwargs: Any) -> Any:
            if pending:
                raise pending.pop()
            return real(*args, **kwargs)

        monkeypatch.setattr(target, method, once)

    return arm
