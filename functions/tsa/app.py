"""The time-stamping authority (RFC 3161 over HTTPS, 3.4): a DER TimeStampReq
(application/timestamp-query) in, a DER TimeStampResp (application/timestamp-reply) out, for an
institution's back end or a customer session (pyHanko's HTTPTimeStamper sends the bearer header).
Not under the public /pki routes: every token costs a KMS Sign, counted per institution."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from fincert import errors
from fincert.api.app import create_app, lambda_handler, principal
from fincert.api.events import header, media_type
from fincert.api.routing import Response
from fincert.api.security import CUSTOMER_SESSION, INSTITUTION_KEY
from fincert.wiring import services

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import (
        OpenAPIResponse,
        OpenAPIResponseContentModel,
        OpenAPIResponseContentSchema,
    )

app = create_app(validation=False)
_QUERY = "application/timestamp-query"
_REPLY = "application/timestamp-reply"
# A TimeStampReq is ~60-120 bytes (an imprint, a nonce, a policy); anything past this is not one.
MAX_REQUEST_BYTES = 1024
_ERROR_BODY: dict[str, OpenAPIResponseContentSchema | OpenAPIResponseContentModel] = {
    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
}
_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "DER TimeStampResp: granted with the token, or a rejection with its PKIFailureInfo "
        "(badAlg, badDataFormat, unacceptedPolicy, unacceptedExtension); RFC 3161 3.4 answers both with 200",
        "content": {_REPLY: {}},
    },
    401: {"description": "no or bad credentials", "content": _ERROR_BODY},
    403: {"description": "a credential of another kind (the window's)", "content": _ERROR_BODY},
    413: {"description": f"request larger than {MAX_REQUEST_BYTES} bytes", "content": _ERROR_BODY},
    415: {"description": f"body not {_QUERY}", "content": _ERROR_BODY},
    429: {"description": "the institution's timestamps per minute are spent", "content": _ERROR_BODY},
    503: {"description": "TSA not set up yet, or KMS / storage unavailable", "content": _ERROR_BODY},
}


@app.post(
    "/v1/timestamps",
    summary="RFC 3161 time-stamp: DER TimeStampReq in, DER TimeStampResp out",
    description=(
        "Institution API key or customer session. SHA-256, SHA-384 or SHA-512 message imprints; the nonce "
        "is echoed, certReq honoured, genTime accurate to 1 s, each token recorded before it is returned."
    ),
    security=[{INSTITUTION_KEY: []}, {CUSTOMER_SESSION: []}],
    tags=["timestamps"],
    responses=_RESPONSES,
)
def timestamp() -> Response[bytes]:
    caller = principal(app)
    reply = services().timestamps.stamp(caller, _raw_body(app.current_event.raw_event))
    return Response(200, content_type=_REPLY, body=reply, headers={"Cache-Control": "no-store"})


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    # A gateway that passed the bytes as text (not a binary media type) passed valid UTF-8.
    return bytes(body.encode("utf-8"))


def refuse_before_parsing(event: dict[str, Any]) -> errors.FincertError | None:
    """A TimeStampReq is DER, not JSON: too large is 413, a body of another media type 415,
    before any parser or KMS sees it."""
    body = event.get("body") or ""
    try:
        size = (
            len(base64.b64decode(body, validate=True)) if event.get("isBase64Encoded") else len(body.encode())
        )
    except (binascii.Error, ValueError):
        return errors.InvalidRequest("the body is not valid base64", code="malformed_body")
    if size > MAX_REQUEST_BYTES:
        return errors.PayloadTooLarge(f"a TimeStampReq must be at most {MAX_REQUEST_BYTES} bytes")
    # An empty body is answered like any other unparseable request: a badDataFormat rejection.
    if size and media_type(header(event, "content-type")) != _QUERY:
        return errors.UnsupportedMediaType(f"send the TimeStampReq as {_QUERY}")
    return None


handler = lambda_handler(app, refuse_before_parsing)
