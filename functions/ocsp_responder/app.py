"""Scheduled (EventBridge, daily): renew the delegated OCSP responder certificate 10 days before
it expires (see fincert.domain.revocation_status). Running it twice renews once."""

from typing import Any

from aws_lambda_powertools import Logger
from fincert.wiring import services

logger = Logger(service="fincert")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    record, renewed = services().ensure_ocsp_responder()
    summary = {
        "responder_serial": format(record.serial_number, "x"),
        "not_after": record.not_after.isoformat(),
        "renewed": renewed,
    }
    logger.info("OCSP responder checked", extra=summary)
    return summary
