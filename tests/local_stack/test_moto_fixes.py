"""fincert_local.moto_fixes: each correction closes a gap that plain moto 5.2.5 shows.

The suite runs with every correction applied (tests/conftest.py). Each test here runs its scenario
with the correction and again `without` it: the second run must show the gap, so a moto release
that closes it fails the test and tells us to drop the patch. docs/moto-corrections.md has the
upstream reports."""

from __future__ import annotations

import gc
import hashlib
import statistics
import threading
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from fincert.crypto.keys import public_key_from_der
from fincert_local import moto_fixes
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

REGION = "ap-northeast-2"
TABLE = "moto-fixes"


@pytest.fixture
def ddb():
    """A pk/sk table with TTL on expires_at and a GSI, as template.yaml's; moto in process."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "due_pk", "due_sk")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "due",
                    "KeySchema": [
                        {"AttributeName": "due_pk", "KeyType": "HASH"},
                        {"AttributeName": "due_sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
        yield client


def _backend():
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]


def _fill(count: int) -> None:
    """`count` items straight into moto's backend (boto3 would take seconds for thousands)."""
    backend = _backend()
    for i in range(count):
        backend.put_item(TABLE, {"pk": {"S": f"FILL#{i}"}, "sk": {"S": "A"}, "data": {"S": "x" * 200}})


def _key(pk: str, sk: str = "A") -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _scan(client) -> list[dict]:
    items = client.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def _counter_transaction(pk: str, *, fail: bool = False) -> list[dict]:
    """Update a counter (in place), put a new item, and a check that fails if asked."""
    check = "attribute_not_exists(pk)" if fail else "attribute_exists(pk) OR attribute_not_exists(pk)"
    return [
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key(pk),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {"Put": {"TableName": TABLE, "Item": {**_key(pk, f"LOG#{time.perf_counter_ns()}")}}},
        {"ConditionCheck": {"TableName": TABLE, "Key": _key("FILL#0"), "ConditionExpression": check}},
    ]


# --- transaction_undo_log ----------------------------------------------------------------------


def _tracked(cls) -> int:
    return len(cls.instances_tracked)


def _live(cls) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is cls)


def test_transactions_copy_no_table_and_keep_nothing(ddb):
    _fill(500)
    ddb.put_item(TableName=TABLE, Item=_key("COUNTER"))

    def run(transactions: int) -> tuple[int, int, int]:
        tables, items, live = _tracked(Table), _tracked(Item), _live(Item)
        for i in range(transactions):
            try:
                ddb.transact_write_items(TransactItems=_counter_transaction("COUNTER", fail=i % 2 == 1))
            except ClientError as e:
                assert e.response["Error"]["Code"] == "TransactionCanceledException"
        return _tracked(Table) - tables, _tracked(Item) - items, _live(Item) - live

    # 10 transactions, 5 applied: +5 log items alive, and nothing else.
    assert run(10) == (0, 0, 5)

    with moto_fixes.without("transaction_undo_log"):
        tables, _, live = run(10)
    # moto deep-copies the table once per action (3 here) and tracks every copy forever.
    assert tables >= 10 and live >= 10 * 500


def test_a_transaction_takes_time_independent_of_the_table_size(ddb):
    ddb.put_item(TableName=TABLE, Item=_key("COUNTER"))
    ddb.put_item(TableName=TABLE, Item=_key("FILL#0"))

    def median_ms(runs: int = 15) -> float:
        # CPU time of this thread (moto runs in it): what a table copy costs, and not what other
        # processes on the machine (the other pytest-xdist worker, say) take from it.
        times = []
        for _ in range(runs):
            started = time.thread_time()
            ddb.transact_write_items(TransactItems=_counter_transaction("COUNTER"))
            times.append((time.thread_time() - started) * 1000)
        return statistics.median(times)

    small = median_ms()
    _fill(4000)
    large = median_ms()
    assert large < 4 * small + 5, (small, large)  # generous: the machine is shared
    with moto_fixes.without("transaction_undo_log"):
        unpatched = median_ms(5)
    assert unpatched > 4 * large, (large, unpatched)  # three 4000-item table copies per transaction


def _cancelled_scenario(client) -> tuple[dict, list[dict], list[dict]]:
    """Every kind of action, the last one failing: what the transaction answers, the table after,
    and the GSI after."""
    client.put_item(
        TableName=TABLE, Item={**_key("UPD"), "n": {"N": "7"}, "due_pk": {"S": "D"}, "due_sk": {"S": "1"}}
    )
    client.put_item(TableName=TABLE, Item={**_key("DEL"), "v": {"S": "keep me"}})
    client.put_item(TableName=TABLE, Item={**_key("OVER"), "v": {"S": "old"}})
    client.put_item(TableName=TABLE, Item={**_key("CHECK"), "v": {"S": "present"}})
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {**_key("NEW"), "due_pk": {"S": "D"}, "due_sk": {"S": "2"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {**_key("OVER"), "v": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": _key("UPD"),
                        "UpdateExpression": "SET n = :n REMOVE due_pk",
                        "ExpressionAttributeValues": {":n": {"N": "8"}},
                    }
                },
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": _key("UPSERT"),
                        "UpdateExpression": "SET w = :w",
                        "ExpressionAttributeValues": {":w": {"S": "w"}},
                    }
                },
                {"Delete": {"TableName": TABLE, "Key": _key("DEL")}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": _key("CHECK"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    answer = {
        "code": raised.value.response["Error"]["Code"],
        "reasons": raised.value.response["CancellationReasons"],
    }
    due = client.query(
        TableName=TABLE,
        IndexName="due",
        KeyConditionExpression="due_pk = :d",
        ExpressionAttributeValues={":d": {"S": "D"}},
    )["Items"]
    return answer, _scan(client), due


def test_a_cancelled_transaction_answers_and_rolls_back_as_moto_does(ddb):
    patched = _cancelled_scenario(ddb)
    for key in ("UPD", "DEL", "OVER", "CHECK"):
        ddb.delete_item(TableName=TABLE, Key=_key(key))
    with moto_fixes.without("transaction_undo_log"):
        unpatched = _cancelled_scenario(ddb)

    assert patched == unpatched
    answer, items, due = patched
    assert answer["code"] == "TransactionCanceledException"
    # What fincert's adapter reads (adapters/dynamodb/table.py::_transact): a code per action.
    assert [r["Code"] for r in answer["reasons"]] == ["None"] * 5 + ["ConditionalCheckFailed"]
    assert answer["reasons"][5]["Item"]["v"] == {"S": "present"}
    assert {i["pk"]["S"]: i.get("v", i.get("n")) for i in items} == {
        "CHECK": {"S": "present"},
        "DEL": {"S": "keep me"},
        "OVER": {"S": "old"},
        "UPD": {"N": "7"},
    }
    assert [i["pk"]["S"] for i in due] == ["UPD"]


def test_a_successful_transaction_applies_every_action(ddb):
    ddb.put_item(TableName=TABLE, Item=_key("FILL#0"))
    for _ in range(3):
        ddb.transact_write_items(TransactItems=_counter_transaction("COUNTER"))
    counter = ddb.get_item(TableName=TABLE, Key=_key("COUNTER"))["Item"]
    assert counter["n"] == {"N": "3"}
    assert sum(1 for i in _scan(ddb) if i["sk"]["S"].startswith("LOG#")) == 3


# --- untracked_items ---------------------------------------------------------------------------


def test_items_written_and_dropped_are_not_kept(ddb):
    def writes(count: int) -> int:
        before = _tracked(Item)
        for i in range(count):
            ddb.put_item(TableName=TABLE, Item={**_key("ONE"), "i": {"N": str(i)}})
            ddb.update_item(
                TableName=TABLE,
                Key=_key("ONE"),
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        ddb.delete_item(TableName=TABLE, Key=_key("ONE"))
        return _tracked(Item) - before

    assert writes(50) == 0
    with moto_fixes.without("untracked_items"):
        assert writes(50) >= 100  # each put's item and each update's before-image, forever


# --- client_request_token ----------------------------------------------------------------------


def _counter(client) -> int:
    item = client.get_item(TableName=TABLE, Key=_key("COUNTER"), ConsistentRead=True).get("Item", {})
    return int(item.get("n", {"N": "0"})["N"])


def _add_one(token: str, amount: str = "1") -> dict:
    return {
        "ClientRequestToken": token,
        "TransactItems": [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": _key("COUNTER"),
                    "UpdateExpression": "ADD n :one SET b = :b",
                    "ExpressionAttributeValues": {":one": {"N": amount}, ":b": {"B": b"\x00binary"}},
                }
            }
        ],
    }


def test_a_repeated_client_request_token_is_idempotent(ddb, monkeypatch):
    ddb.transact_write_items(**_add_one("token-1"))
    ddb.transact_write_items(**_add_one("token-1"))  # a retry: succeeds, applies nothing
    assert _counter(ddb) == 1

    with pytest.raises(ClientError) as mismatch:
        ddb.transact_write_items(**_add_one("token-1", amount="5"))
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert _counter(ddb) == 1

    ddb.transact_write_items(**_add_one("token-2"))
    assert _counter(ddb) == 2

    # 10 minutes after, the token is a new request.
    later = time.monotonic() + moto_fixes.CLIENT_TOKEN_WINDOW_SECONDS + 1
    monkeypatch.setattr(moto_fixes, "_token_clock", lambda: later)
    ddb.transact_write_items(**_add_one("token-1"))
    assert _counter(ddb) == 3

    with moto_fixes.without("client_request_token"):
        ddb.transact_write_items(**_add_one("token-3"))
        ddb.transact_write_items(**_add_one("token-3"))
        assert _counter(ddb) == 5  # plain moto applies the retry again
        ddb.transact_write_items(**_add_one("token-3", amount="5"))  # and never sees a mismatch
        assert _counter(ddb) == 10


def test_a_cancelled_transaction_does_not_use_up_its_token(ddb):
    guarded = _add_one("token-c")
    guarded["TransactItems"][0]["Update"]["ConditionExpression"] = "attribute_exists(pk)"
    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(**guarded)
    ddb.put_item(TableName=TABLE, Item=_key("COUNTER"))
    ddb.transact_write_items(**guarded)  # nothing was written the first time: this one runs
    assert _counter(ddb) == 1


# --- TTL ---------------------------------------------------------------------------------------


def _ttl_items(client, now: float) -> None:
    for pk, expires in (("PAST", now - 60), ("FUTURE", now + 3600), ("SOON", now + 2)):
        client.put_item(TableName=TABLE, Item={**_key(pk), "expires_at": {"N": str(int(expires))}})
    client.put_item(TableName=TABLE, Item={**_key("NONE")})
    client.put_item(TableName=TABLE, Item={**_key("TEXT"), "expires_at": {"S": "1"}})  # not a Number


def test_the_sweeper_deletes_expired_items_only(ddb):
    now = time.time()
    _ttl_items(ddb, now)
    # Plain moto never deletes anything, TTL enabled or not.
    assert len(_scan(ddb)) == 5

    sweeper = moto_fixes.TtlSweeper(clock=lambda: now)
    assert sweeper.sweep_once() == 1
    assert {i["pk"]["S"] for i in _scan(ddb)} == {"FUTURE", "SOON", "NONE", "TEXT"}
    sweeper.clock = lambda: now + 7200
    assert sweeper.sweep_once() == 2
    assert {i["pk"]["S"] for i in _scan(ddb)} == {"NONE", "TEXT"}


def test_the_sweeper_thread_runs_under_the_given_lock(ddb):
    lock = threading.Lock()
    ddb.put_item(TableName=TABLE, Item={**_key("PAST"), "expires_at": {"N": str(int(time.time()) - 1)}})
    sweeper = moto_fixes.TtlSweeper(lock=lock, interval=0.01).start()
    try:
        assert sweeper.interval == moto_fixes.TtlSweeper.MIN_INTERVAL  # bounded
        with lock:
            time.sleep(1.2)
            assert len(_scan(ddb)) == 1  # no sweep while the lock is held
        deadline = time.monotonic() + 10
        while _scan(ddb) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _scan(ddb) == []
    finally:
        sweeper.stop()


# --- kms_digest --------------------------------------------------------------------------------


def _digest_sign(client, key_id: str, digest: bytes, algorithm: str) -> bytes:
    return client.sign(KeyId=key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm)[
        "Signature"
    ]


def _verifies(public_key, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


@pytest.mark.parametrize(
    ("spec", "algorithm"), [("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"), ("ECC_NIST_P256", "ECDSA_SHA_256")]
)
def test_digest_signatures_verify(spec, algorithm):
    message = b"a TBSCertList longer than KMS takes raw" * 200
    digest = hashlib.sha256(message).digest()
    with mock_aws():
        client = boto3.client("kms", region_name=REGION)
        key_id = client.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        public_key = public_key_from_der(client.get_public_key(KeyId=key_id)["PublicKey"])

        signature = _digest_sign(client, key_id, digest, algorithm)
        assert _verifies(public_key, signature, message)
        verified = client.verify(
            KeyId=key_id,
            Message=digest,
            MessageType="DIGEST",
            Signature=signature,
            SigningAlgorithm=algorithm,
        )
        assert verified["SignatureValid"] is True
        # RAW keeps working as before.
        raw = client.sign(KeyId=key_id, Message=b"small", MessageType="RAW", SigningAlgorithm=algorithm)
        assert _verifies(public_key, raw["Signature"], b"small")
        # What real KMS refuses, the corrected moto refuses too.
        with pytest.raises(ClientError, match="ValidationException"):
            client.sign(KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm=algorithm)
        with pytest.raises(ClientError, match="Digest is invalid length"):
            _digest_sign(client, key_id, digest[:20], algorithm)

        # The gap itself: if moto ever honours DIGEST, this fails and the correction can go.
        with moto_fixes.without("kms_digest"):
            assert not _verifies(public_key, _digest_sign(client, key_id, digest, algorithm), message), (
                "moto now honours MessageType=DIGEST: drop moto_fixes' kms_digest correction"
            )


# --- the guard ---------------------------------------------------------------------------------


def test_the_corrections_refuse_another_moto(monkeypatch):
    assert set(moto_fixes.applied()) == set(moto_fixes.CORRECTIONS)
    monkeypatch.setattr(moto_fixes.moto, "__version__", "5.2.6")
    with pytest.raises(moto_fixes.MotoVersionError, match=r"written for moto 5\.2\.5, not 5\.2\.6"):
        moto_fixes.apply_all()


def test_the_corrections_refuse_changed_moto_code():
    with moto_fixes.without("transaction_undo_log"):
        saved = moto_fixes._SOURCE_SHA256["transaction_undo_log"]
        moto_fixes._SOURCE_SHA256["transaction_undo_log"] = "0" * 64
        try:
            with pytest.raises(moto_fixes.MotoVersionError, match="transact_write_items is not the code"):
                moto_fixes.apply_all(["transaction_undo_log"])
        finally:
            moto_fixes._SOURCE_SHA256["transaction_undo_log"] = saved
    assert "transaction_undo_log" in moto_fixes.applied()


# --- the local stack runs with them ------------------------------------------------------------


def test_the_local_stack_serves_a_corrected_moto(stack):
    """`fincert_local up` (a subprocess, its moto server over HTTP): a retried token is not applied
    twice, and an expired item goes (tests/support/stack.py runs the sweeper every second)."""
    client = stack.dynamodb()
    table = stack.table_name
    key = {"pk": {"S": f"MOTO-FIXES#{time.time_ns()}"}, "sk": {"S": "A"}}
    request = {
        "ClientRequestToken": f"token-{time.time_ns()}",
        "TransactItems": [
            {
                "Update": {
                    "TableName": table,
                    "Key": key,
                    "UpdateExpression": "ADD n :one SET expires_at = :past",
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":past": {"N": str(int(time.time()) - 1)},
                    },
                }
            }
        ],
    }
    client.transact_write_items(**request)
    client.transact_write_items(**request)
    item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    assert item is None or item["n"] == {"N": "1"}  # None: the sweeper was quicker than this read

    deadline = time.monotonic() + 15
    while "Item" in client.get_item(TableName=table, Key=key, ConsistentRead=True):
        assert time.monotonic() < deadline, "the expired item was never deleted"
        time.sleep(0.2)
