"""Issuance records a cloud use on the account as a KST calendar day, with the account's entry
in the sparse `due` index the idle purge queries."""

from __future__ import annotations

from datetime import UTC, datetime

from fincert.adapters.dynamodb.keys import idle_shard

from tests.support.customers import issue
from tests.support.people import ENROLLMENT
from tests.support.table import account_item, account_of


def _account_item(aws, account_id: str) -> dict:
    return account_item(account_id)


def _account_id(aws, credential_id: str) -> str:
    return account_of(credential_id)


def test_issuance_just_after_kst_midnight_counts_as_the_korean_day(aws, api, clock):
    # 15:30 UTC on 24 November is 00:30 on 25 November in Seoul.
    clock.at = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    issued = issue(api)
    account_id = _account_id(aws, issued["credential_id"])
    item = _account_item(aws, account_id)
    assert item["last_used_day"] == "2026-11-25"
    assert item["due_pk"] == f"idle#{idle_shard(account_id)}"
    assert item["due_sk"] == f"2026-11-25#{account_id}"


def test_reissue_moves_the_last_use_day(aws, api, clock):
    clock.at = datetime(2026, 11, 24, 14, 59, tzinfo=UTC)  # 23:59 KST, 24 November
    first = issue(api)
    clock.at = datetime(2026, 12, 30, 3, 0, tzinfo=UTC)
    second = issue(api, ENROLLMENT, pin="246813")
    account_id = _account_id(aws, second["credential_id"])
    assert account_id == _account_id(aws, first["credential_id"])
    item = _account_item(aws, account_id)
    assert item["last_used_day"] == "2026-12-30"
    assert item["due_sk"].startswith("2026-12-30#")
