"""CORS for customer calls made straight from the customer's browser (so PINs and SMS codes need
not pass through the bank's servers). Only the institution's registered origins may read the
answers: an actual response carries Access-Control-Allow-Origin only when the request's Origin
is one the session's institution registered (the authorizer passes them along). A preflight
carries no credentials, so it can only ask whether *some* active institution registered the origin; the
answer that matters, to the request itself, is per institution. No cookies are involved (bearer
tokens), so credentials mode stays off."""

from __future__ import annotations

import json
from typing import Any

from fincert.api.events import header
from fincert.domain.institutions import origin_allowed
from fincert.domain.stores import Institutions

ALLOWED_HEADERS = "Authorization, Content-Type"
ALLOWED_METHODS = "GET, POST, PUT, DELETE"
PREFLIGHT_MAX_AGE = "600"


def with_cors(event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """Adds the CORS headers to an API response when the caller's institution allows the origin."""
    origin = header(event, "origin")
    if not origin:
        return response
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    allowed = (context.get("allowed_origins") or "").split()
    headers = dict(response.get("headers") or {})
    headers["Vary"] = "Origin"
    if origin in allowed:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response | {"headers": headers}


def preflight(event: dict[str, Any], store: Institutions) -> dict[str, Any]:
    origin = header(event, "origin")
    if origin and origin_allowed(store, origin):
        return {
            "statusCode": 204,
            "headers": {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                "Vary": "Origin",
            },
            "body": "",
        }
    body = {
        "error": {"code": "origin_not_allowed", "message": "no active institution registered this origin"}
    }
    return {
        "statusCode": 403,
        "headers": {"Content-Type": "application/json", "Vary": "Origin"},
        "body": json.dumps(body),
    }
