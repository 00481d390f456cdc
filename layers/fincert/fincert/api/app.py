"""What every API function shares: the resolver with validation and error mapping, the body
size limit, and who the caller is (as the authorizer resolved it)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from fincert import errors
from fincert.api.errors import domain_error_response, install_error_handlers
from fincert.domain.model import Principal
from fincert.settings import get_settings

logger = Logger(service="fincert")


def create_app(*, validation: bool = True) -> APIGatewayRestResolver:
    """validation=False for functions whose routes take no input: request validation pulls in
    pydantic and Powertools' OpenAPI machinery, a cold-start cost such a function need not pay."""
    app = APIGatewayRestResolver(enable_validation=validation)
    install_error_handlers(app)
    return app


def body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(base64.b64decode(body, validate=False))
    return len(body.encode())


def lambda_handler(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point for an API function: checks the body size before anything parses
    it, then lets the resolver route."""

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        limit = get_settings().max_body_bytes
        if body_size(event) > limit:
            too_large = domain_error_response(
                errors.PayloadTooLarge(f"the body must be at most {limit} bytes")
            )
            return {
                "statusCode": too_large.status_code,
                "headers": {"Content-Type": "application/json", **too_large.headers},
                "body": too_large.body,
                "isBase64Encoded": False,
            }
        return app.resolve(event, context)

    return handler


def principal(app: APIGatewayRestResolver) -> Principal:
    """The institution the authorizer resolved. Its absence means the route was deployed without
    the authorizer: refuse rather than serve anonymously."""
    context = app.current_event.request_context.authorizer or {}
    institution_id = context.get("institution_id")
    if not institution_id:
        raise errors.Unauthenticated()
    return Principal(institution_id=institution_id, scopes=frozenset((context.get("scopes") or "").split()))
