"""What every API function shares: the resolver with validation and error mapping, the body
size limit, and who the caller is (as the authorizer resolved it)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from aws_lambda_powertools import Logger

from fincert import errors
from fincert.api.cors import with_cors
from fincert.api.errors import (
    ErrorBody,
    domain_error_response,
    fincert_error_body,
    route_not_found_response,
    unexpected_error_response,
    unsupported_content_type_response,
    validation_error_response,
)
from fincert.api.events import header, media_type
from fincert.api.routing import Resolver, Response, parse_json
from fincert.domain.access import require_not_window
from fincert.domain.institution_records import Principal
from fincert.settings import get_settings

logger = Logger(service="fincert")
_JSON = "application/json"


def create_app(*, validation: bool = True, error_body: ErrorBody = fincert_error_body) -> Resolver:
    """validation=False for functions whose routes take their input raw (the PKI's): the
    handler gets the path's segments as they are."""
    return Resolver(
        validation=validation,
        domain_error_class=errors.FincertError,
        domain_error=lambda e: domain_error_response(e, error_body),  # type: ignore[arg-type]
        validation_error=lambda e: validation_error_response(e, error_body),
        unsupported_content_type=lambda: unsupported_content_type_response(error_body),
        not_found=lambda: route_not_found_response(error_body),
        unexpected=lambda e: unexpected_error_response(e, error_body),
    )


def created(body: object) -> Response[Any]:
    """A 201 with a JSON body."""
    return Response(201, body=body, content_type="application/json")


def body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return len(base64.b64decode(body, validate=False))
        except ValueError:
            # Broken base64 (API Gateway never sends it; a direct invocation can) is refused as
            # malformed by the caller's next check, not raised here.
            return 0
    return len(body.encode())


def refuse_before_parsing(event: dict[str, Any], max_body_bytes: int) -> errors.FincertError | None:
    """What is wrong with the raw body, judged before any parser sees it: too large, not JSON by
    its content type (form parsers would echo the body back in their errors), not UTF-8, or
    not JSON that the parser can turn into a value."""
    if body_size(event) > max_body_bytes:
        return errors.PayloadTooLarge(f"the body must be at most {max_body_bytes} bytes")
    body = event.get("body")
    if not body:
        return None
    if media_type(header(event, "content-type")) not in {"", _JSON}:
        return errors.UnsupportedMediaType()
    text = body
    if event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(body, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return errors.InvalidRequest("the body is not UTF-8 JSON", code="malformed_json")
    if text.lstrip().startswith("["):
        # Every body of this API is an object; Powertools would validate an array's first
        # element as if it were the body.
        return errors.InvalidRequest("the body must be a JSON object", code="body_not_object")
    try:
        parse_json(text)
    except json.JSONDecodeError:
        return errors.InvalidRequest("the body is not valid JSON", code="malformed_json")
    return None


def _with_canonical_json_type(event: dict[str, Any]) -> dict[str, Any]:
    """The event with a JSON Content-Type spelled `application/json`: Powertools' validation
    compares it case-sensitively and would answer `APPLICATION/JSON` 415 (RFC 9110 8.3.1: media
    types are case-insensitive). Any other type is passed as sent."""
    if media_type(header(event, "content-type")) != _JSON:
        return event
    event = dict(event)
    for key in ("headers", "multiValueHeaders"):
        headers = event.get(key)
        if headers:
            canonical: Any = _JSON if key == "headers" else [_JSON]
            event[key] = {k: canonical if k.lower() == "content-type" else v for k, v in headers.items()}
    return event


def _plain_response(error: errors.FincertError, error_body: ErrorBody) -> dict[str, Any]:
    response = domain_error_response(error, error_body)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json", **response.headers},
        "body": response.body,
        "isBase64Encoded": False,
    }


def lambda_handler(
    app: Resolver,
    refuse: Callable[[dict[str, Any]], errors.FincertError | None] | None = None,
    error_body: ErrorBody = fincert_error_body,
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point for an API function: judges the raw body before anything parses
    it (`refuse`, by default the JSON API's refuse_before_parsing), then lets the resolver route."""

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        refusal = (
            refuse(event)
            if refuse is not None
            else refuse_before_parsing(event, get_settings().max_body_bytes)
        )
        if refusal is not None:
            return with_cors(event, _plain_response(refusal, error_body))
        return with_cors(event, app.resolve(_with_canonical_json_type(event), context))

    return handler


def refuse_unknown_query_parameters(app: Resolver, allowed: AbstractSet[str]) -> None:
    """Strict like the bodies: a misspelt parameter is a client bug to see, not to ignore."""
    if set(app.current_event.query_string_parameters or {}) - allowed:
        raise errors.InvalidRequest("unknown query parameters", code="unknown_parameter")


def principal(app: Resolver) -> Principal:
    """The caller the authorizer resolved, on the bank API's routes: an institution's back end or
    a customer session. A window credential acts only on the window's routes."""
    caller = _caller(app)
    require_not_window(caller)
    return caller


def window_principal(app: Resolver) -> Principal:
    """The window the authorizer resolved, on the window's routes only."""
    caller = _caller(app)
    if caller.window_ticket_id is None:
        raise errors.Forbidden("this call takes a window credential", code="window_credential_required")
    return caller


def event_principal(event: Mapping[str, Any]) -> Principal:
    """principal(app) read from the raw event, for a route that judges its caller before its
    body (refuse_before_parsing)."""
    caller = _principal_of(((event.get("requestContext") or {}).get("authorizer")) or {})
    require_not_window(caller)
    return caller


def _caller(app: Resolver) -> Principal:
    return _principal_of(app.current_event.request_context.authorizer or {})


def _principal_of(context: Mapping[str, Any]) -> Principal:
    """Its absence means the route was deployed without the authorizer: refuse rather than serve
    anonymously. API Gateway passes the context's values as strings."""
    institution_id = context.get("institution_id")
    if not institution_id:
        raise errors.Unauthenticated()
    return Principal(
        institution_id=institution_id,
        scopes=frozenset((context.get("scopes") or "").split()),
        account_id=context.get("account_id") or None,
        session_id=context.get("session_id") or None,
        allowed_origins=tuple((context.get("allowed_origins") or "").split()),
        hosted_only=str(context.get("hosted_only", "")).lower() == "true",
        window_ticket_id=context.get("window_ticket_id") or None,
    )
