"""The OpenAPI document is generated from the code; the checked-in copy must be current."""

from __future__ import annotations

from fincert_local.openapi import build_openapi, openapi_path, render
from fincert_local.template import api_routes, load_template, repo_root


def test_checked_in_openapi_matches_the_code():
    checked_in = (repo_root() / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert checked_in == render(build_openapi()), "run `make openapi` and commit docs/openapi.json"


def test_every_template_route_is_documented_with_its_security():
    document = build_openapi()
    for route in api_routes(load_template()):
        if route.method == "OPTIONS":
            continue  # CORS preflights: not documented operations
        operation = document["paths"][openapi_path(route.path)][route.method.lower()]
        assert ("security" in operation) == route.authorized, route


def test_error_responses_are_documented_as_models():
    confirm = build_openapi()["paths"]["/v1/enrollments/{enrollment_id}/confirm"]["post"]
    assert confirm["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorResponse"
    )
