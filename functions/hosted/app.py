"""The hosted window's pages and the SDK, as static files from the layer (fincert.hosted).

A plain handler, not a Powertools resolver: two GET routes that take no input need no router or
validation, and this function answers every window a customer opens, so its cold start is the
interpreter's and nothing more (no boto3, no pydantic, no Powertools)."""

from __future__ import annotations

import json
from typing import Any

from fincert.hosted import serve

_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


def _operation(summary: str, description: str, types: list[str]) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": description,
        "operationId": "get_" + summary.lower().replace(" ", "_"),
        "tags": ["hosted"],
        "parameters": [{"name": "file", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "the file", "content": {t: {} for t in types}},
            "404": {"description": "not one of the served files", "content": _ERROR_BODY},
        },
    }


class _Documentation:
    """What fincert_local's OpenAPI document asks every API function's `app` for: the routes it
    serves, written out here since there is no resolver to generate them."""

    def get_openapi_json_schema(self, *, title: str, version: str, **_: Any) -> str:
        # Public routes: no security scheme applies (the other keyword arguments are a
        # resolver's, e.g. security_schemes).
        paths = {
            "/hosted/v1/{file}": {
                "get": _operation(
                    "Hosted window file",
                    "The window's pages: window.html, window.js, window.css (no-store, strict CSP)",
                    ["text/html", "text/javascript", "text/css"],
                )
            },
            "/sdk/v1/{file}": {
                "get": _operation(
                    "SDK file",
                    "fincert.js (load it with its published SRI hash) and fincert.d.ts",
                    ["text/javascript", "text/plain"],
                )
            },
        }
        return json.dumps({"openapi": "3.1.0", "info": {"title": title, "version": version}, "paths": paths})


app = _Documentation()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(event)
