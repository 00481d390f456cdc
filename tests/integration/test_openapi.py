"""The OpenAPI document is generated from the code; the checked-in copy must be current."""

from __future__ import annotations

import json

import jsonschema
import pytest
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


def _response_schemas(document: dict) -> set[str]:
    """The component schemas an answer (any status) may carry, with the ones they refer to."""
    schemas = document["components"]["schemas"]
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found:
                    found.add(name)
                    walk(schemas[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in document["paths"].values():
        for operation in path.values():
            walk(operation.get("responses", {}))
    return found


def _nullable(prop: dict) -> bool:
    return prop.get("type") == "null" or any(_nullable(p) for p in prop.get("anyOf", []))


# What an answer leaves out rather than sends as null: an error's details, CSC's conditional fields.
ABSENT_WHEN_NOT_APPLICABLE = {
    ("ErrorDetail", "details"),
    ("KeyInfo", "curve"),
    ("CredentialsInfoResponse", "PIN"),
    *(
        ("CertInfo", name)
        for name in ("certificates", "issuerDN", "serialNumber", "subjectDN", "validFrom", "validTo")
    ),
}


def test_answers_mark_every_field_they_always_send_as_required():
    """Answers are serialised with every field (null included), so an answer's schema must list
    every property as required; the few fields an answer leaves out instead are optional and
    never nullable (absent means absent, null means sent)."""
    document = build_openapi()
    schemas = document["components"]["schemas"]
    response_schemas = _response_schemas(document)
    assert {"SessionResponse", "CertificateResponse", "VerifySignatureResponse"} <= response_schemas
    optional = set()
    for name in response_schemas:
        schema = schemas[name]
        required = set(schema.get("required", []))
        for prop_name, prop in schema.get("properties", {}).items():
            if prop_name not in required:
                optional.add((name, prop_name))
                assert not _nullable(prop), (name, prop_name)
    assert optional == ABSENT_WHEN_NOT_APPLICABLE


def test_the_document_passes_openapi_spec_validator():
    """An independent linter (openapi-spec-validator, OpenAPI 3.1 rules and JSON Schema)."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    document = build_openapi()
    validate(document)
    broken = json.loads(json.dumps(document))
    broken["paths"]["/v1/health"]["get"]["responses"]["200"]["content"] = "not a map"
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_operation_has_a_summary_a_description_and_its_error_codes():
    for path, operations in build_openapi()["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            description = operation.get("description", "")
            # Its own words before the generated list of error codes.
            assert description.split("**Error codes**")[0].strip(), where
            assert "**Error codes**: `" in description, where


def _validator(document: dict, schema: dict) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema | {"components": document["components"]}, format_checker=jsonschema.FormatChecker()
    )


def test_every_example_is_valid_against_its_schema():
    """Request bodies, success answers and each error code's example body: an example that drifts
    from its model fails here rather than misleading a reader."""
    document = build_openapi()
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            bodies = [("request", operation.get("requestBody", {}).get("content", {}))]
            bodies += [(status, r.get("content", {})) for status, r in operation["responses"].items()]
            for where, content in bodies:
                for media in content.values():
                    for name, example in media.get("examples", {}).items():
                        errors = list(_validator(document, media["schema"]).iter_errors(example["value"]))
                        assert not errors, (method, path, where, name, errors[0].message)
                        checked += 1
    assert checked > 500


def test_every_json_request_and_success_answer_has_an_example():
    for path, operations in build_openapi()["paths"].items():
        for method, operation in operations.items():
            request = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if request is not None:
                assert request.get("examples"), (method, path)
            for status, response in operation["responses"].items():
                answer = response.get("content", {}).get("application/json")
                if status.startswith("2") and answer is not None:
                    assert answer.get("examples"), (method, path, status)
