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

from fincert.api.error_codes import ERROR_CODES
from fincert.api.security import SECURITY_SCHEMES

from fincert_local.openapi_examples import EXAMPLES
from fincert_local.operation_errors import OPERATION_ERRORS, operation_errors
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
        document_errors(operation, route.method, openapi_path(route.path))
        add_examples(operation)
        if route.authorized != bool(operation.get("security")):
            raise ValueError(
                f"{route.method} {route.path}: the template {'puts' if route.authorized else 'does not put'} it "
                "behind the authorizer, but its handler declares "
                f"{operation.get('security') or 'no security'} (fincert.api.security)"
            )
    document["paths"] = dict(sorted(document["paths"].items()))
    return document


_SCHEMAS = "#/components/schemas/"
ERRORS_DOC = "docs/errors.md"


def _schema_name(content: dict[str, Any], media_type: str = "application/json") -> str | None:
    ref = content.get(media_type, {}).get("schema", {}).get("$ref", "")
    return ref.removeprefix(_SCHEMAS) if ref.startswith(_SCHEMAS) else None


def _error_body(schema: str, code: str, message: str) -> dict[str, Any]:
    if schema == "CscErrorResponse":
        return {"error": code, "error_description": message}
    return {"error": {"code": code, "message": message}}


def document_errors(operation: dict[str, Any], method: str, path: str) -> None:
    """Each error status of the operation lists the codes it answers with (and an example body
    per code); the description ends with all of them. Statuses stay as the handler documented
    them (schemathesis holds the answers to those), plus any a listed code needs."""
    if f"{method.upper()} {path}" not in OPERATION_ERRORS:
        raise ValueError(f"{method} {path}: no error codes in fincert_local.operation_errors")
    codes = operation_errors(method, path)
    unknown = [code for code in codes if code not in ERROR_CODES or ERROR_CODES[code].audience != "api"]
    if unknown:
        raise ValueError(f"{method} {path}: {unknown} are not answerable codes of fincert.api.error_codes")
    responses = operation.setdefault("responses", {})
    schema = "CscErrorResponse" if path.startswith("/csc/") else "ErrorResponse"
    by_status: dict[int, list[str]] = {}
    for code in codes:
        for status in ERROR_CODES[code].statuses:
            by_status.setdefault(status, []).append(code)
    for status, status_codes in sorted(by_status.items()):
        response = responses.setdefault(
            str(status),
            {
                "description": "Error",
                "content": {"application/json": {"schema": {"$ref": _SCHEMAS + schema}}},
            },
        )
        listed = ", ".join(f"`{code}`" for code in status_codes)
        response["description"] = f"{response['description']}: {listed}"
        media = response.setdefault("content", {}).setdefault("application/json", {})
        media.setdefault("schema", {"$ref": _SCHEMAS + schema})
        shape = _schema_name(response["content"]) or schema
        media["examples"] = {
            code: {
                "summary": ERROR_CODES[code].meaning,
                "value": _error_body(shape, code, ERROR_CODES[code].meaning),
            }
            for code in status_codes
        }
    ordered = sorted(codes, key=lambda code: ERROR_CODES[code].statuses[0])
    listed = ", ".join(f"`{code}` ({'/'.join(map(str, ERROR_CODES[code].statuses))})" for code in ordered)
    description = operation.get("description", "").rstrip()
    operation["description"] = (
        f"{description}\n\n" if description else ""
    ) + f"**Error codes**: {listed}. What each means: {ERRORS_DOC}."


def add_examples(operation: dict[str, Any]) -> None:
    """The request body's and the success answers' examples, by their schemas' names."""
    body = operation.get("requestBody", {}).get("content", {})
    name = _schema_name(body)
    if name is not None and name in EXAMPLES:
        body["application/json"]["examples"] = {"example": {"value": EXAMPLES[name]}}
    for status, response in operation.get("responses", {}).items():
        name = _schema_name(response.get("content", {}))
        if status.startswith("2") and name is not None and name in EXAMPLES:
            response["content"]["application/json"]["examples"] = {"example": {"value": EXAMPLES[name]}}
