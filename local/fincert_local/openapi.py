"""`python -m fincert_local openapi`: the bank API's OpenAPI document, generated from the code.

Each API function's Powertools resolver knows its routes and pydantic models; this merges their
documents into one, adds the institution API key as the security scheme of the routes that
template.yaml puts behind the authorizer, and writes or prints it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fincert_local.gateway import Gateway
from fincert_local.template import api_routes, load_template, repo_root

TITLE = "fincert-cloud bank API"
VERSION = "0.1.0"
SECURITY_SCHEME = "institutionApiKey"


def openapi_path(template_path: str) -> str:
    """OpenAPI path templates have no greedy form: API Gateway's {request+} is documented as {request}."""
    return template_path.replace("+}", "}")


def build_openapi(gateway: Gateway | None = None) -> dict[str, Any]:
    template = load_template()
    gateway = gateway or Gateway(template, repo_root())
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


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--write", type=Path, help="write here instead of printing (e.g. docs/openapi.json)")


def run(args: argparse.Namespace) -> int:
    text = render(build_openapi())
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        print(text, end="")
    return 0
