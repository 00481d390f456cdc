"""The bank API's OpenAPI document, merged from the API functions' own.

Each API function's Powertools resolver knows its routes and pydantic models; this merges their
documents into one and adds the institution API key as the security scheme of the routes that
template.yaml puts behind the authorizer. It takes the handlers from a gateway and does not import
the gateway module: the gateway serves this document (/_local/openapi.json) and `openapi` (the
CLI) prints or writes it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fincert_local.template import api_routes, load_template

if TYPE_CHECKING:
    from fincert_local.gateway import Gateway

TITLE = "fincert-cloud bank API"
VERSION = "0.1.0"
SECURITY_SCHEME = "institutionApiKey"


def openapi_path(template_path: str) -> str:
    """OpenAPI path templates have no greedy form: API Gateway's {request+} is documented as {request}."""
    return template_path.replace("+}", "}")


def build_document(gateway: Gateway, template: dict | None = None) -> dict[str, Any]:
    """The document for template.yaml's routes, from the handler modules `gateway` loads."""
    if template is None:
        template = load_template()
    # CORS preflights (OPTIONS) are the browser's protocol, answered by the CORS function for
    # every customer route alike; they are not operations a client calls.
    routes = [route for route in api_routes(template) if route.method != "OPTIONS"]
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "The institution's API key (Authorization: Bearer fck_<institution>_<secret>) on the"
                        " institution's routes, or a customer session token (Bearer fcs.<...>) on the customer"
                        " and CSC routes"
                    ),
                }
            },
        },
    }
    for function_id in sorted({route.function_id for route in routes}):
        resolver = gateway.module(function_id).app
        part = json.loads(resolver.get_openapi_json_schema(title=TITLE, version=VERSION))
        for path, operations in part.get("paths", {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    for route in routes:
        operation = document["paths"].get(openapi_path(route.path), {}).get(route.method.lower())
        if operation is None:
            raise ValueError(f"{route.method} {route.path} is in template.yaml but no handler documents it")
        if route.authorized:
            operation["security"] = [{SECURITY_SCHEME: []}]
    document["paths"] = dict(sorted(document["paths"].items()))
    return document
