"""Swagger UI for the whole API, served by the local gateway at /_local/docs.

Why here and not Powertools' `enable_swagger`: each Lambda function has its own resolver, so a
resolver's Swagger UI would show that function's routes only; the document a reader needs is
the merged one (fincert_local.openapi_document), which only the local stack assembles. The page
is Powertools' Swagger UI page and the Swagger UI files Powertools ships in its package, served
from here: nothing is fetched from a CDN, so the page works offline and under a CSP that allows
only its own origin. "Try it out" calls the gateway that serves the page. Nothing of this is
deployed: on AWS the document is docs/openapi.json in the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DOCS_PATH = "/_local/docs"
OPENAPI_PATH = "/_local/openapi.json"
_ASSETS = {
    "swagger-ui-bundle.min.js": "text/javascript; charset=utf-8",
    "swagger-ui.min.css": "text/css; charset=utf-8",
}


def _swagger_ui_dir() -> Path:
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    return Path(swagger_ui.__file__).parent


def asset_routes() -> dict[str, str]:
    """path -> file name of the files the page loads."""
    return {f"{DOCS_PATH}/{name}": name for name in _ASSETS}


def asset(name: str) -> tuple[str, bytes]:
    """(content type, bytes) of one of the Swagger UI files."""
    return _ASSETS[name], (_swagger_ui_dir() / name).read_bytes()


def page(document: dict[str, Any]) -> bytes:
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    html = generate_swagger_html(
        # Inline: "</" would end the <script> element early.
        json.dumps(document, ensure_ascii=False).replace("</", "<\\/"),
        f"{DOCS_PATH}/swagger-ui-bundle.min.js",
        f"{DOCS_PATH}/swagger-ui.min.css",
        DOCS_PATH,
        None,
    )
    return html.replace("<title>Swagger UI</title>", f"<title>{document['info']['title']}</title>").encode()
