"""The pre-signing reconciler, with the DynamoDB store on moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fincert.adapters.dynamodb.store import DynamoStore
from fincert.clock import FixedClock
from fincert.domain.enrollment_records import PreSigningRecord
from fincert.domain.reconcile import BATCH, GRACE, reconcile_presigned
from fincert.errors import ServiceUnavailable

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def presign(store: DynamoStore, serial: int, created_at: datetime) -> None:
    store.put_pre_signing_record(
        PreSigningRecord(
            serial, f"cred_{serial}", "acct_1", "00" * 32, created_at + timedelta(days=1095), created_at
        )
    )


def test_only_records_older_than_the_grace_period_are_revoked(store, table):
    presign(store, 1, NOW - GRACE - timedelta(seconds=1))
    presign(store, 2, NOW - GRACE + timedelta(seconds=1))
    report = reconcile_presigned(store, FixedClock(NOW))
    assert report.revoked == ["1"]
    assert table.serial_status(1) == "revoked"
    assert table.serial_status(2) == "presigned"


def test_more_than_one_batch_is_worked_through_in_one_run(store):
    for serial in range(1, BATCH * 2 + 6):
        presign(store, serial, NOW - timedelta(hours=1))
    report = reconcile_presigned(store, FixedClock(NOW))
    assert len(report.revoked) == BATCH * 2 + 5
    assert report.complete


def test_it_stops_before_the_time_limit_and_the_next_run_resumes(store):
    for serial in range(1, 11):
        presign(store, serial, NOW - timedelta(hours=1))
    stopped = reconcile_presigned(store, FixedClock(NOW), time_left_ms=lambda: 1_000)
    assert (stopped.revoked, stopped.complete) == ([], False)
    resumed = reconcile_presigned(store, FixedClock(NOW))
    assert len(resumed.revoked) == 10


def test_a_failing_record_does_not_stop_the_others(store, table, fail_next):
    presign(store, 1, NOW - timedelta(hours=2))
    presign(store, 2, NOW - timedelta(hours=1))
    fail_next(store, "revoke_unstored", ServiceUnavailable())
    report = reconcile_presigned(store, FixedClock(NOW))
    assert report.failed == ["1"]
    assert "2" in report.revoked
    assert table.serial_status(1) == "presigned"
    assert table.serial_status(2) == "revoked"
