"""The bank API's OpenAPI document, merged from the API functions' own.

Each API function's Powertools resolver knows its routes and pydantic models; this merges their
documents into one. Each route behind template.yaml's authorizer declares which of the three kinds
of bearer token it takes (fincert.api.security); a route that does not is an error here, and a
public route must declare none. It takes the handlers from a gateway and does not import
the gateway module: the gateway serves this document (/_local/openapi.json) and `openapi` (the
CLI) prints or writes it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fincert.api.security import SECURITY_SCHEMES

from fincert_local.template import api_routes, load_template

if TYPE_CHECKING:
    from fincert_local.gateway import Gateway

TITLE = "fincert-cloud bank API"
VERSION = "0.1.0"


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
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    for function_id in sorted({route.function_id for route in routes}):
        resolver = gateway.module(function_id).app
        part = json.loads(
            resolver.get_openapi_json_schema(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES)
        )
        for path, operations in part.get("paths", {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        document["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    for route in routes:
        operation = document["paths"].get(openapi_path(route.path), {}).get(route.method.lower())
        if operation is None:
            raise ValueError(f"{route.method} {route.path} is in template.yaml but no handler documents it")
        # Powertools documents a `Response[None]` route's 204 with a JSON `null` body; a 204 has
        # no body and no Content-Type (RFC 9110 15.3.5), which is what the handlers send.
        no_content = operation.get("responses", {}).get("204")
        if no_content is not None:
            no_content.pop("content", None)
        if route.authorized != bool(operation.get("security")):
            raise ValueError(
                f"{route.method} {route.path}: the template {'puts' if route.authorized else 'does not put'} it "
                "behind the authorizer, but its handler declares "
                f"{operation.get('security') or 'no security'} (fincert.api.security)"
            )
    document["paths"] = dict(sorted(document["paths"].items()))
    return document
