"""Scheduled (EventBridge): revoke certificates signed but never stored (see fincert.domain.reconcile)."""

from typing import Any

from aws_lambda_powertools import Logger
from fincert.domain.reconcile import reconcile_presigned
from fincert.wiring import services

logger = Logger(service="fincert")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    svc = services()
    report = reconcile_presigned(
        svc.store, svc.clock, time_left_ms=context.get_remaining_time_in_millis, metrics=svc.metrics
    )
    summary = {
        "revoked": report.revoked,
        "already_settled": report.already_settled,
        "failed": report.failed,
        "complete": report.complete,
    }
    # Serial numbers only: they identify certificates, not people.
    logger.info("pre-signing records reconciled", extra=summary)
    return summary
