"""Swagger UI in the local stack (/_local/docs): the merged document of every function, with
Swagger UI's own files served by the gateway, so the page fetches nothing from anywhere else."""

from __future__ import annotations

import json
import re

import pytest
from fincert_local.gateway import Gateway
from fincert_local.openapi import build_openapi
from fincert_local.template import load_template, repo_root


@pytest.fixture(scope="module")
def local_gateway() -> Gateway:
    return Gateway(load_template(), repo_root())


def _get(gateway: Gateway, target: str):
    return gateway.handle("GET", target, [("Host", "127.0.0.1:3000")])


def test_the_docs_page_embeds_the_whole_document_and_loads_only_same_origin_files(local_gateway):
    response = _get(local_gateway, "/_local/docs")
    assert response.status == 200
    assert response.header("Content-Type").startswith("text/html")
    html = response.body.decode()
    assert "<title>fincert-cloud bank API</title>" in html
    loaded = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", html)
    assert sorted(loaded) == ["/_local/docs/swagger-ui-bundle.min.js", "/_local/docs/swagger-ui.min.css"]
    assert "cdn" not in html.lower()
    for path in ("/v1/health", "/v1/enrollments", "/csc/v1/signatures/signHash", "/pki/ocsp"):
        assert f'"{path}"' in html


@pytest.mark.parametrize(
    ("name", "content_type", "marker"),
    [
        ("swagger-ui-bundle.min.js", "text/javascript", b"SwaggerUIBundle"),
        ("swagger-ui.min.css", "text/css", b".swagger-ui"),
    ],
)
def test_swagger_ui_files_are_served_by_the_gateway(local_gateway, name, content_type, marker):
    response = _get(local_gateway, f"/_local/docs/{name}")
    assert response.status == 200
    assert response.header("Content-Type").startswith(content_type)
    assert marker in response.body


def test_the_document_is_served_where_the_readme_says(local_gateway):
    for target in ("/_local/openapi.json", "/_local/docs?format=json"):
        response = _get(local_gateway, target)
        assert response.status == 200
        assert json.loads(response.body) == build_openapi()
