"""Bodies the JSON parser cannot turn into a value (issue 11, defect 2): an integer longer than
Python's int conversion limit, nesting deep enough to hit the recursion limit while under the
body limit. Every route of template.yaml that takes a body answers them 400 `malformed_json` (in
the CSC shape on the CSC routes), before anything parses them, and changes nothing."""

from __future__ import annotations

import json
import re

import pytest
from fincert_local.gateway import LambdaContext
from fincert_local.template import api_routes, load_template

from tests.support.customers import Customer, connected
from tests.support.in_process import REGION, load_event
from tests.support.table import table_items

# Routes whose handler reads a JSON body (the OCSP POST takes DER and is tested in
# test_pki_endpoints, the TSA's TimeStampReq in test_timestamps).
BODY_ROUTES = [
    route
    for route in api_routes(load_template())
    if route.method in {"POST", "PUT", "PATCH"}
    and not route.path.startswith("/pki/")
    and route.path != "/v1/timestamps"
]
CREDENTIAL_REFUSALS = {"institution_key_required", "customer_session_required", "unauthorized"}

UNPARSEABLE = {
    # json.loads: ValueError "Exceeds the limit (4300 digits) for integer string conversion".
    "long integer": b'{"a": ' + b"1" * 5000 + b"}",
    "long negative integer": b'{"pin": -' + b"9" * 4301 + b"}",
    "long integer deep inside": b'{"a": [{"b": ' + b"7" * 6000 + b"}]}",
    # RecursionError, well under the 16 KiB body limit.
    "deep objects": b'{"a":' * 2500 + b"1" + b"}" * 2500,
    "deep arrays in an object": b'{"a":' + b"[" * 8000 + b"]" * 8000 + b"}",
    "deep objects, unclosed": b'{"a":' * 2500,
}


def _parser_refuses(body: bytes) -> bool:
    """Whether this interpreter's json.loads fails on it. The nesting cases hit Python 3.11's
    recursion limit (~1000 levels); 3.12+ parse JSON in C with a limit of ~10000 levels, deeper
    than 16 KiB can nest, so there (Lambda's python3.13) they parse: the schema refuses them, or
    ignores the unknown member where the CSC API ignores unknown parameters (/csc/v1/info)."""
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return True
    return False


def _path(template_path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x0000000000000000000000", template_path)


def _error_code(route, response) -> str:
    body = response.json()
    return body["error"] if route.path.startswith("/csc/") else body["error"]["code"]


@pytest.fixture
def customer(api) -> Customer:
    return connected(api)


def _credential_for(api, customer: Customer, route) -> str:
    """The credential this route takes: the one whose `{}` the handler itself answers."""
    for key in (customer.token, api.api_key, ""):
        response = api.request(route.method, _path(route.path), {}, api_key=key)
        if response.status not in (401, 403) or _error_code(route, response) not in CREDENTIAL_REFUSALS:
            return key
    raise AssertionError(f"no credential reaches {route.method} {route.path}")


def test_every_body_route_is_covered():
    paths = {r.path for r in BODY_ROUTES}
    assert {"/v1/enrollments", "/csc/v1/info", "/csc/v1/signatures/signHash", "/v1/pin"} <= paths
    assert len(BODY_ROUTES) >= 20


@pytest.mark.parametrize("case", list(UNPARSEABLE))
def test_unparseable_json_is_400_malformed_json_on_every_route(api, svc, aws_calls, customer, case):
    body = UNPARSEABLE[case]
    assert len(body) < 16 * 1024, "under the body limit: the parser, not the size check, must refuse it"
    refused_by_parser = _parser_refuses(body)
    credentials = {route: _credential_for(api, customer, route) for route in BODY_ROUTES}
    before = table_items(svc)
    for route in BODY_ROUTES:
        aws_calls.clear()
        response = api.request(route.method, _path(route.path), body=body, api_key=credentials[route])
        where = f"{route.method} {route.path}"
        if refused_by_parser:
            assert response.status == 400, (where, response.status, response.body[:300])
            assert _error_code(route, response) == "malformed_json", where
        else:
            assert response.status < 500, (where, response.status, response.body[:300])
            assert response.status < 400 or _error_code(route, response), where
        if route.path.startswith("/csc/") and response.status >= 400:
            assert set(response.json()) == {"error", "error_description"}, where
        # Refused before the handler: the only AWS calls are the authorizer's reads (a session's
        # is a BatchGetItem with its institution).
        authorizer_reads = ("dynamodb.GetItem", "dynamodb.BatchGetItem")
        assert [c for c in aws_calls.calls if c not in authorizer_reads] == [], where
    assert table_items(svc) == before


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", None])
def test_unparseable_json_is_refused_whatever_json_content_type_is_declared(api, content_type):
    headers = [("Authorization", f"Bearer {api.api_key}")]
    if content_type is not None:  # None: no Content-Type header at all, which means JSON here
        headers.append(("Content-Type", content_type))
    response = api.gateway.handle("POST", "/v1/enrollments", headers, UNPARSEABLE["long integer"])
    assert response.status == 400, response.body[:300]
    assert response.json()["error"]["code"] == "malformed_json"


def test_deep_json_that_does_parse_still_gets_a_4xx(api):
    # Deep, but shallow enough for the parser: whatever the schema says of it, never a 5xx.
    for depth in (50, 200, 900):
        body = b'{"name":' * depth + b'"x"' + b"}" * depth
        response = api.post("/v1/enrollments", body=body)
        assert 400 <= response.status < 500, (depth, response.status, response.body[:300])
        json.loads(response.body)


@pytest.mark.parametrize("case", ["long integer", "deep objects"])
@pytest.mark.parametrize(
    ("function_id", "path"), [("EnrollmentFunction", "/v1/enrollments"), ("CscFunction", "/csc/v1/info")]
)
def test_the_resolvers_own_parsing_refuses_them_too(gateway, bank, function_id, path, case):
    # Powertools' validation parses the body again, deeper in the stack, where nesting the first
    # parse survived can still hit the recursion limit: that parse is safe on its own.
    app = gateway.module(function_id).app
    event = load_event("enrollment_start.json", resource=path, path=path, body=UNPARSEABLE[case].decode())
    event["requestContext"] |= {
        "resourcePath": path,
        "authorizer": {"institution_id": bank["institution_id"]},
    }
    response = app.resolve(event, LambdaContext(gateway.functions[function_id], REGION))
    body = json.loads(response["body"])
    if _parser_refuses(UNPARSEABLE[case]):
        assert response["statusCode"] == 400, response["body"][:300]
        assert (body["error"] if function_id == "CscFunction" else body["error"]["code"]) == "malformed_json"
    else:
        assert response["statusCode"] < 500, response["body"][:300]
