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


def _properties(document: dict, name: str) -> list[tuple[str, dict]]:
    """(schema, property) pairs of every component schema property called `name`."""
    return [
        (schema_name, schema["properties"][name])
        for schema_name, schema in document["components"]["schemas"].items()
        if name in schema.get("properties", {})
    ]


def test_a_certificate_status_has_one_set_of_names_in_every_answer():
    """valid, suspended, revoked, expired: the enrollment confirm, GET /v1/certificate, the status
    changes and CSC's credentials/info alike. (The verify call's `certificate_status` is OCSP's
    good/revoked/unknown on purpose; it is another property.)"""
    statuses = {
        schema: tuple(prop["enum"])
        for schema, prop in _properties(build_openapi(), "status")
        if schema in {"CertificateResponse", "CertificateStatusResponse", "CertInfo"}
    }
    assert set(statuses) == {"CertificateResponse", "CertificateStatusResponse", "CertInfo"}
    for schema, names in statuses.items():
        assert sorted(names) == ["expired", "revoked", "suspended", "valid"], schema


def test_chain_pem_is_one_pem_text_everywhere():
    chains = _properties(build_openapi(), "chain_pem")
    assert {schema for schema, _ in chains} >= {"CertificateResponse"}
    for schema, prop in chains:
        assert prop["type"] == "string", schema
