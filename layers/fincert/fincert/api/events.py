"""Reading API Gateway proxy events, for the handlers and the authorizer alike (no Powertools
here: the authorizer's cold start should not pay for the event handler)."""

from __future__ import annotations

from typing import Any


def header(event: dict[str, Any], name: str) -> str:
    """A request header's value, by case-insensitive name ("" when absent)."""
    headers = event.get("headers") or {}
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted and isinstance(v, str)), "")


def media_type(content_type: str) -> str:
    """The media type of a Content-Type value, "type/subtype" in lower case, parameters dropped
    ("" when there is none). Types and parameter names are case-insensitive (RFC 9110 8.3.1):
    `Application/Json;Charset="utf-8"` is application/json."""
    return content_type.split(";", 1)[0].strip().lower()
