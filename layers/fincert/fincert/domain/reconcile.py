"""The pre-signing reconciler: a certificate the CA signed (or may have signed) but whose
issuance never committed must not stay valid unseen. Its pre-signing record is all that knows
of it; after a grace period longer than any issuance can take, it is revoked.

docs/design.md#faults-and-allowed-leftovers names this record as the one leftover an AWS fault may leave during issuance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from fincert.domain.account_records import RevocationReason
from fincert.domain.metrics import JOB_RESULTS, NO_METRICS
from fincert.domain.stores import PreSigningRecords
from fincert.errors import ServiceUnavailable
from fincert.ports import Clock, Metrics

# Longer than an API request can live (API Gateway: 29 s; the function: 15 s), so a pending
# record this old belongs to an issuance that is over, one way or the other.
GRACE = timedelta(minutes=10)
BATCH = 100


@dataclass
class ReconcileReport:
    revoked: list[str] = field(default_factory=list)  # serials, hex
    already_settled: int = 0
    failed: list[str] = field(default_factory=list)
    complete: bool = True  # False: stopped for time; the next run continues


def reconcile_presigned(
    store: PreSigningRecords,
    clock: Clock,
    *,
    time_left_ms: Callable[[], int] = lambda: 10**9,
    reserve_ms: int = 30_000,
    metrics: Metrics = NO_METRICS,
) -> ReconcileReport:
    report = _reconcile(store, clock, time_left_ms, reserve_ms)
    metrics.count(JOB_RESULTS, len(report.revoked), Job="reconcile", Result="done")
    metrics.count(JOB_RESULTS, len(report.failed), Job="reconcile", Result="failed")
    return report


def _reconcile(
    store: PreSigningRecords, clock: Clock, time_left_ms: Callable[[], int], reserve_ms: int
) -> ReconcileReport:
    now = clock.now()
    report = ReconcileReport()
    while True:
        if time_left_ms() < reserve_ms:
            report.complete = False
            return report
        serials = store.presigned_before(now - GRACE, BATCH)
        progressed = False
        for serial in serials:
            try:
                # cessationOfOperation: the certificate was never delivered and is not needed.
                if store.revoke_unstored(serial, now, RevocationReason.CESSATION_OF_OPERATION):
                    report.revoked.append(format(serial, "x"))
                else:
                    report.already_settled += 1
                progressed = True
            except ServiceUnavailable:
                # One item's failure does not stop the batch; it stays due for the next run.
                report.failed.append(format(serial, "x"))
        if len(serials) < BATCH or not progressed:
            return report
