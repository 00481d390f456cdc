"""CORS preflights (OPTIONS) for the routes a customer's browser calls with a session token."""

from typing import Any

from aws_lambda_powertools import Logger
from fincert.api.cors import preflight
from fincert.wiring import services

logger = Logger(service="fincert")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return preflight(event, services().institution_store)
