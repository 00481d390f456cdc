"""Who may call what, and bad input: every refusal is a 4xx with a stable code, and changes
nothing (no table write, no KMS call, no SMS)."""

from __future__ import annotations

import json

import pytest
from fincert.domain.institutions import register_institution

from tests.support.customers import enroll
from tests.support.in_process import Api
from tests.support.people import ENROLLMENT, PHONE, PIN
from tests.support.table import is_rate_limit, table_items


def test_missing_or_bad_api_key_is_401(api):
    for key in [
        "",
        "nonsense",
        "fck_demo-bank_" + "A" * 43,
        api.api_key[:-1] + "x",
        "fck_nobank_" + "A" * 43,
    ]:
        response = api.post("/v1/enrollments", ENROLLMENT, api_key=key or "")
        if key == "":
            response = api.gateway.handle(
                "POST", "/v1/enrollments", [("Content-Type", "application/json")], b"{}"
            )
        assert response.status == 401, key
        assert response.json()["error"]["code"] == "unauthorized"
    basic = api.post("/v1/enrollments", ENROLLMENT, headers={"Authorization": "Basic " + api.api_key})
    assert basic.status == 401


def test_institution_without_the_enroll_scope_is_403(api, svc):
    _, key = register_institution(svc.store, "view-only", "View Only Bank", [])
    response = api.post("/v1/enrollments", ENROLLMENT, api_key=key)
    assert response.status == 403
    assert response.json()["error"]["code"] == "scope_missing"


def test_another_institutions_enrollment_does_not_exist_for_you(api, other_bank, svc):
    enrollment_id = enroll(api)
    code = api.last_sms_code(PHONE)
    other = Api(api.gateway, other_bank["api_key"])
    response = other.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN})
    assert response.status == 404
    assert response.json()["error"]["code"] == "enrollment_not_found"
    # ...and the foreign attempt used up nothing of the owner's.
    assert api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN}).status == 201


def test_unknown_enrollment_is_404(api):
    response = api.post("/v1/enrollments/enr_doesnotexist0000000/confirm", {"sms_code": "123456", "pin": PIN})
    assert response.status == 404
    assert response.json()["error"]["code"] == "enrollment_not_found"


BAD_STARTS = [
    ("malformed json", b'{"name": "x",', 400, "malformed_json"),
    ("not an object", b"[1, 2]", 400, "body_not_object"),
    (
        "missing field",
        json.dumps({k: v for k, v in ENROLLMENT.items() if k != "phone"}).encode(),
        422,
        "validation_failed",
    ),
    ("extra field", json.dumps(ENROLLMENT | {"admin": True}).encode(), 422, "validation_failed"),
    ("wrong type", json.dumps(ENROLLMENT | {"terms_accepted": "yes"}).encode(), 422, "validation_failed"),
    ("number as phone", json.dumps(ENROLLMENT | {"phone": 1012345678}).encode(), 422, "validation_failed"),
    (
        "impossible date",
        json.dumps(ENROLLMENT | {"birth_date": "20231340"}).encode(),
        400,
        "birth_date_invalid",
    ),
    ("short date", json.dumps(ENROLLMENT | {"birth_date": "1990011"}).encode(), 422, "validation_failed"),
    ("future date", json.dumps(ENROLLMENT | {"birth_date": "29990101"}).encode(), 400, "birth_date_invalid"),
    ("landline", json.dumps(ENROLLMENT | {"phone": "02-1234-5678"}).encode(), 400, "phone_invalid"),
    ("foreign phone", json.dumps(ENROLLMENT | {"phone": "+12025550123"}).encode(), 400, "phone_invalid"),
    ("digits in name", json.dumps(ENROLLMENT | {"name": "홍길동2"}).encode(), 400, "name_invalid"),
    ("terms refused", json.dumps(ENROLLMENT | {"terms_accepted": False}).encode(), 400, "terms_not_accepted"),
    (
        "unknown algorithm",
        json.dumps(ENROLLMENT | {"key_algorithm": "DSA_1024"}).encode(),
        422,
        "validation_failed",
    ),
    ("oversized", json.dumps(ENROLLMENT | {"name": "가" * 20000}).encode(), 413, "payload_too_large"),
]


@pytest.mark.parametrize(("case", "body", "status", "code"), BAD_STARTS, ids=[c[0] for c in BAD_STARTS])
def test_bad_enrollment_requests_are_refused_and_change_nothing(
    api, svc, aws_calls, case, body, status, code
):
    before = table_items(svc)
    aws_calls.clear()
    response = api.post("/v1/enrollments", body=body)
    assert response.status == status, response.body
    assert response.json()["error"]["code"] == code
    kms_or_sns = [c for c in aws_calls.calls if not c.startswith("dynamodb.GetItem")]
    if code not in {"birth_date_invalid", "phone_invalid", "name_invalid", "terms_not_accepted"}:
        assert kms_or_sns == [], "refused before any AWS call"
    assert not [c for c in aws_calls.calls if c.startswith(("kms.", "sns."))]
    assert table_items(svc) == before


def test_unsupported_content_type_is_415(api):
    response = api.post("/v1/enrollments", body=b"name=x", headers={"Content-Type": "text/plain"})
    assert response.status == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


BAD_CONFIRMS = [
    ({"sms_code": "12345", "pin": PIN}, 422, "validation_failed"),
    ({"sms_code": "abcdef", "pin": PIN}, 422, "validation_failed"),
    ({"sms_code": 123456, "pin": PIN}, 422, "validation_failed"),
    ({"sms_code": "123456"}, 422, "validation_failed"),
    ({"sms_code": "123456", "pin": "12345"}, 400, "pin_format"),
    ({"sms_code": "123456", "pin": "12345a"}, 400, "pin_format"),
    ({"sms_code": "123456", "pin": "222222"}, 400, "pin_repeated_digits"),
    ({"sms_code": "123456", "pin": "987654"}, 400, "pin_sequential"),
    ({"sms_code": "123456", "pin": PIN, "extra": 1}, 422, "validation_failed"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_CONFIRMS)
def test_bad_confirm_requests_are_refused_before_any_aws_call(api, svc, aws_calls, body, status, code):
    enrollment_id = enroll(api)
    before = table_items(svc)
    aws_calls.clear()
    response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
    assert response.status == status, response.body
    assert response.json()["error"]["code"] == code
    assert [c for c in aws_calls.calls if not c.startswith("dynamodb.GetItem")] == []
    assert table_items(svc) == before


def test_bad_enrollment_id_in_path_is_422(api):
    response = api.post("/v1/enrollments/..%2F..%2Fetc/confirm", {"sms_code": "123456", "pin": PIN})
    assert response.status == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert response.json()["error"]["details"][0]["loc"] == ["path", "enrollment_id"]


def test_validation_errors_never_echo_the_input(api):
    enrollment_id = enroll(api)
    response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": "12345x", "pin": "987650"})
    assert response.status == 422
    assert "12345x" not in response.body.decode()
    assert "987650" not in response.body.decode()


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/plain",
    ],
)
def test_bodies_that_are_not_json_get_415_before_any_parser(api, content_type):
    body = b"pin=135790&sms_code=123456"
    response = api.post("/v1/enrollments", body=body, headers={"Content-Type": content_type})
    assert response.status == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert b"135790" not in response.body, "the body is never echoed back"


def test_a_body_that_is_not_utf8_is_malformed_not_a_server_error(api):
    response = api.post("/v1/enrollments", body=b'{"name": "\xff"}')
    assert response.status == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_unknown_http_methods_get_api_gateways_403(api):
    for method in ["TRACE", "QUERY", "PUT", "DELETE"]:
        assert api.request(method, "/v1/enrollments").status == 403


def test_an_undeliverable_phone_number_is_a_4xx_and_leaves_nothing(api, svc, aws_calls):
    before = table_items(svc)
    aws_calls.fail_next("sns.Publish", "InvalidParameter")
    response = api.post("/v1/enrollments", ENROLLMENT)
    assert response.status == 400
    assert response.json()["error"]["code"] == "phone_unreachable"
    assert [i for i in table_items(svc) if not is_rate_limit(i)] == [
        i for i in before if not is_rate_limit(i)
    ]


def test_a_confirm_in_progress_tells_the_client_when_to_retry(api, svc, clock):
    enrollment_id = enroll(api)
    code = api.last_sms_code(PHONE)
    from datetime import timedelta

    # Claim it as a confirm in flight would, then ask again.
    svc.store.claim_enrollment(
        enrollment_id, "demo-bank", clock.now(), clock.now() + timedelta(seconds=30), 5
    )
    response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN})
    assert response.status == 409
    assert response.json()["error"]["code"] == "enrollment_in_progress"
    assert response.header("Retry-After") == "1"
