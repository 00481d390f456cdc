"""API Gateway REQUEST authorizer: resolves the calling institution from its API key."""

from typing import Any

from aws_lambda_powertools import Logger
from fincert.api.authorizer import authorize
from fincert.wiring import services

logger = Logger(service="fincert")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    svc = services()
    return authorize(event, svc.access_store, svc.clock)
