"""The one place that maps domain errors to HTTP. Error bodies are models, so they appear in
the OpenAPI document, and every code is stable: clients branch on `error.code`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from fincert import errors
from fincert.api.routing import RequestValidationError, Response, content_types

logger = Logger(service="fincert")

# Most specific first: the first matching class decides the status.
_STATUS: list[tuple[type[errors.FincertError], int]] = [
    (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.InvalidRequest, 400),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Gone, 410),
    (errors.RateLimited, 429),
    (errors.ServiceUnavailable, 503),
]


def status_for(error: errors.FincertError) -> int:
    return status_of(type(error))


def status_of(error_class: type[errors.FincertError]) -> int:
    return next((status for cls, status in _STATUS if issubclass(error_class, cls)), 500)


ErrorBody = Callable[[str, str, Any], dict[str, Any]]


def fincert_error_body(code: str, message: str, details: Any) -> dict[str, Any]:
    # The shape of fincert.api.models.ErrorResponse, built without pydantic so functions that
    # validate nothing (PKI, the authorizer) do not import it.
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def csc_error_body(code: str, message: str, details: Any) -> dict[str, Any]:
    """The CSC API's error shape (fincert.api.csc_models.CscErrorResponse)."""
    return {"error": code, "error_description": message}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
    body: ErrorBody = fincert_error_body,
) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body(code, message, details), ensure_ascii=False, separators=(",", ":")),
        headers=headers or {},
    )


def domain_error_response(error: errors.FincertError, body: ErrorBody = fincert_error_body) -> Response:
    status = status_for(error)
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if status >= 500:
        # The message and code only: exception chains from AWS calls can quote request parameters.
        logger.error("request failed", extra={"error_code": error.code, "error_type": type(error).__name__})
    else:
        logger.info("request refused", extra={"error_code": error.code, "status": status})
    return error_response(status, error.code, error.message, error.details, headers, body)


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo `input`: it may be a PIN or a name, and the client knows what it sent.
    return [
        {"loc": [str(part) for part in e.get("loc", ())], "type": e.get("type"), "msg": e.get("msg")}
        for e in error.errors()
    ]


def validation_error_response(
    error: RequestValidationError, body: ErrorBody = fincert_error_body
) -> Response:
    details = _validation_details(error)
    logger.info("request refused", extra={"error_code": "validation_failed", "status": 422})
    if any(d["type"] == "json_invalid" for d in details):
        return error_response(400, "malformed_json", "the body is not valid JSON", body=body)
    return error_response(
        422, "validation_failed", "the request does not match the schema", details, body=body
    )


def unsupported_content_type_response(body: ErrorBody = fincert_error_body) -> Response:
    return domain_error_response(errors.UnsupportedMediaType(), body)


def route_not_found_response(body: ErrorBody = fincert_error_body) -> Response:
    return error_response(404, "route_not_found", "no such route", body=body)


def unexpected_error_response(error: Exception, body: ErrorBody = fincert_error_body) -> Response:
    # A bug, not a client error. Type and place only: messages may quote parameters.
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
    logger.error("unexpected error", extra={"error_type": type(error).__name__, "where": where})
    return error_response(500, "internal_error", "internal error", body=body)
