"""Media types are case-insensitive, and so are their parameter names (RFC 9110 8.3.1) (issue 11,
defect 6): a JSON body declared `APPLICATION/JSON` or `Application/Json;Charset="utf-8"` is
JSON, an OCSP request declared `APPLICATION/OCSP-REQUEST` is one. Other types stay 415."""

from __future__ import annotations

import json

import pytest
from fincert.api.events import media_type

from tests.support.customers import connected
from tests.support.in_process import Api
from tests.support.people import ENROLLMENT

JSON_SPELLINGS = [
    "application/json",
    "APPLICATION/JSON",
    "application/json; charset=UTF-8",
    'Application/Json;Charset="utf-8"',
    "application/JSON ; charset=utf-8",
    " application/json",
]
NOT_JSON = [
    "text/plain",
    "TEXT/PLAIN",
    "application/jsonx",
    "application/json-patch+json",
    "application/x-www-form-urlencoded",
    "Multipart/Form-Data; boundary=x",
    "application/ocsp-request",
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("application/json", "application/json"),
        ("APPLICATION/JSON", "application/json"),
        ('Application/Json;Charset="utf-8"', "application/json"),
        ("  application/ocsp-request ; x=1", "application/ocsp-request"),
        ("", ""),
        ("text/plain;", "text/plain"),
    ],
)
def test_media_type_is_the_lower_case_type_without_parameters(value, expected):
    assert media_type(value) == expected


@pytest.mark.parametrize("content_type", JSON_SPELLINGS)
def test_json_is_json_however_its_media_type_is_spelled(api, content_type):
    response = api.post("/v1/enrollments", ENROLLMENT, headers={"Content-Type": content_type})
    assert response.status == 201, response.body


@pytest.mark.parametrize("content_type", JSON_SPELLINGS)
def test_schema_and_parse_errors_are_the_same_however_json_is_spelled(api, content_type):
    headers = {"Content-Type": content_type}
    missing = api.post("/v1/enrollments", {"name": "x"}, headers=headers)
    assert missing.status == 422, missing.body
    assert missing.json()["error"]["code"] == "validation_failed"
    malformed = api.post("/v1/enrollments", body=b'{"name": "x",', headers=headers)
    assert malformed.status == 400, malformed.body
    assert malformed.json()["error"]["code"] == "malformed_json"
    empty = api.post("/v1/enrollments", body=b"", headers=headers)
    reference = api.post("/v1/enrollments", body=b"", headers={"Content-Type": "application/json"})
    assert (empty.status, empty.json()) == (reference.status, reference.json())


def test_csc_routes_accept_any_spelling_of_json(api):
    customer = connected(api)
    for content_type in JSON_SPELLINGS:
        headers = {"Content-Type": content_type}
        info = api.post("/csc/v1/info", {}, api_key="", headers=headers)
        assert info.status == 200, (content_type, info.body)
        listed = customer.call("POST", "/csc/v1/credentials/list", {}, headers=headers)
        assert listed.status == 200, (content_type, listed.body)
        assert listed.json() == {"credentialIDs": [customer.credential_id]}


@pytest.mark.parametrize("content_type", NOT_JSON)
def test_other_media_types_are_still_415(api, content_type):
    response = api.post("/v1/enrollments", ENROLLMENT, headers={"Content-Type": content_type})
    assert response.status == 415, response.body
    assert response.json()["error"]["code"] == "unsupported_media_type"
    csc = api.post("/csc/v1/info", {}, api_key="", headers={"Content-Type": content_type})
    assert csc.status == 415, csc.body
    assert json.loads(csc.body)["error"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type",
    ["application/ocsp-request", "APPLICATION/OCSP-REQUEST", "Application/Ocsp-Request; charset=binary"],
)
def test_ocsp_requests_are_ocsp_requests_however_the_type_is_spelled(gateway, content_type):
    response = Api(gateway).post(
        "/pki/ocsp", body=b"\x30\x03\x02\x01", headers={"Content-Type": content_type}
    )
    # Not DER the responder can read: an OCSP malformedRequest answer, not a 415.
    assert response.status == 200, response.body
    assert response.header("Content-Type") == "application/ocsp-response"


@pytest.mark.parametrize(
    "content_type", ["application/json", "APPLICATION/JSON", "application/ocsp-response"]
)
def test_other_types_are_still_415_at_the_ocsp_responder(gateway, content_type):
    response = Api(gateway).post(
        "/pki/ocsp", body=b"\x30\x03\x02\x01", headers={"Content-Type": content_type}
    )
    assert response.status == 415, response.body
    assert response.json()["error"]["code"] == "unsupported_media_type"
