"""Cloud connection through the API: name + phone + birth date -> SMS code -> a customer session
token, and what that token may and may not do."""

from __future__ import annotations

from datetime import timedelta

from fincert.adapters.dynamodb import keys
from fincert_local.gateway import recorded_sms

from tests.support.customers import Customer, connected
from tests.support.in_process import REGION, Api
from tests.support.people import CUSTOMER, other_customer
from tests.support.table import Table, table_items, typed_key


def test_connection_opens_a_session_the_customer_routes_accept(api):
    customer = Customer(api, CUSTOMER)
    customer.issue()
    session = customer.connect()
    assert session["session_token"].startswith("fcs.")
    assert session["institution_registered"] is True
    assert customer.call("GET", "/v1/history").status == 200
    events = [e["event"] for e in customer.call("GET", "/v1/history").json()["entries"]]
    assert events[:2] == ["connected", "issued"]


def test_unknown_identity_gets_the_same_answer_and_sms_as_a_known_one(api):
    known = Customer(api, CUSTOMER)
    known.issue()
    stranger = Customer(api, other_customer(7))
    known_start = api.post("/v1/connections", known.identity)
    stranger_start = api.post("/v1/connections", stranger.identity)
    assert known_start.status == stranger_start.status == 201
    assert known_start.json().keys() == stranger_start.json().keys()
    assert known_start.json()["attempts_allowed"] == stranger_start.json()["attempts_allowed"]
    # The stranger's phone gets a code too: only whoever holds it learns there is no certificate.
    code = api.last_sms_code(stranger.phone)
    confirm = api.post(
        f"/v1/connections/{stranger_start.json()['verification_id']}/confirm", {"sms_code": code}
    )
    assert confirm.status == 404
    assert confirm.json()["error"]["code"] == "certificate_not_found"


def test_wrong_codes_count_and_lock_the_verification(api):
    customer = Customer(api, CUSTOMER)
    customer.issue()
    verification_id = customer.start_connection()
    right = api.last_sms_code(customer.phone)
    wrong = "000000" if right != "000000" else "111111"
    remaining = []
    for _ in range(5):
        response = api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": wrong})
        assert response.status == 400
        assert response.json()["error"]["code"] == "sms_code_invalid"
        remaining.append(response.json()["error"]["details"]["remaining_attempts"])
    assert remaining == [4, 3, 2, 1, 0]
    locked = api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": right})
    assert (locked.status, locked.json()["error"]["code"]) == (410, "verification_locked")


def test_a_code_opens_one_session_only(api):
    customer = Customer(api, CUSTOMER)
    customer.issue()
    verification_id = customer.start_connection()
    code = api.last_sms_code(customer.phone)
    assert api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": code}).status == 201
    again = api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": code})
    assert (again.status, again.json()["error"]["code"]) == (410, "verification_used")


def test_another_institution_cannot_confirm_a_verification_it_did_not_start(api, gateway, other_bank):
    customer = Customer(api, CUSTOMER)
    customer.issue()
    verification_id = customer.start_connection()
    code = api.last_sms_code(customer.phone)
    other = Api(gateway, other_bank["api_key"])
    response = other.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": code})
    assert (response.status, response.json()["error"]["code"]) == (404, "verification_not_found")
    # ...and the customer's own bank still can: the foreign attempt changed nothing.
    assert api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": code}).status == 201


def test_expired_verification_is_gone(api, clock):
    customer = Customer(api, CUSTOMER)
    customer.issue()
    verification_id = customer.start_connection()
    code = api.last_sms_code(customer.phone)
    clock.at += timedelta(minutes=6)
    response = api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": code})
    assert (response.status, response.json()["error"]["code"]) == (410, "verification_expired")


def test_session_tokens_and_api_keys_each_open_only_their_own_routes(api):
    customer = connected(api)
    as_customer_on_bank_route = customer.call("POST", "/v1/connections", CUSTOMER)
    assert as_customer_on_bank_route.status == 403
    assert as_customer_on_bank_route.json()["error"]["code"] == "institution_key_required"
    as_bank_on_customer_route = api.get("/v1/history")
    assert as_bank_on_customer_route.status == 403
    assert as_bank_on_customer_route.json()["error"]["code"] == "customer_session_required"
    enroll_with_session = customer.call("POST", "/v1/enrollments", CUSTOMER | {"terms_accepted": True})
    assert enroll_with_session.status == 403


def test_ended_expired_or_tampered_sessions_are_refused(api, clock):
    customer = connected(api)
    token = customer.token
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert api.get("/v1/history", api_key=tampered).status == 401
    assert api.get("/v1/history", api_key=token.replace("fcs.", "fcs.x", 1)).status == 401

    clock.at += timedelta(minutes=16)
    assert customer.call("GET", "/v1/history").status == 401
    clock.at -= timedelta(minutes=16)

    assert customer.call("DELETE", "/v1/sessions/current").status == 204
    assert customer.call("GET", "/v1/history").status == 401


def test_connection_sms_is_rate_limited_per_phone(api):
    customer = Customer(api, CUSTOMER)
    customer.issue()
    statuses = [api.post("/v1/connections", CUSTOMER).status for _ in range(6)]
    # The enrollment's SMS counts too: 5 per phone per hour in all.
    assert statuses.count(201) == 4
    refused = api.post("/v1/connections", CUSTOMER)
    assert (refused.status, refused.json()["error"]["code"]) == (429, "sms_rate_limited")
    assert len(recorded_sms(customer.phone, REGION)) == 5


def test_bad_connection_input_is_refused_without_writing(api, aws_calls):
    aws_calls.clear()
    cases = [
        ({"name": "홍길동", "phone": "02-123-4567", "birth_date": "19900101"}, 400, "phone_invalid"),
        ({"name": "홍길동", "phone": "010-1234-5678", "birth_date": "19901341"}, 400, "birth_date_invalid"),
        ({"name": "", "phone": "010-1234-5678", "birth_date": "19900101"}, 422, "validation_failed"),
        ({"name": "홍길동", "phone": "010-1234-5678"}, 422, "validation_failed"),
        (CUSTOMER | {"extra": 1}, 422, "validation_failed"),
    ]
    for body, status, code in cases:
        response = api.post("/v1/connections", body)
        assert (response.status, response.json()["error"]["code"]) == (status, code), body
    writes = [
        c for c in aws_calls.calls if c.split(".")[1] in {"PutItem", "UpdateItem", "TransactWriteItems"}
    ]
    assert writes == []
    assert not any(c.startswith("kms.") for c in aws_calls.calls)
    bad_code = api.post("/v1/connections/ver_doesnotexist12345/confirm", {"sms_code": "12345"})
    assert bad_code.status == 422


def test_a_session_keeps_no_copy_of_the_institutions_settings(api):
    """Origins and hosted-only are read with the session at each request; a copy in the session
    would go stale after remove-origin. Sessions written before with the copy still work."""
    customer = connected(api)
    [session] = [
        i
        for i in table_items()
        if i["pk"] == keys.account_pk(customer.account_id) and i["sk"].startswith("SESSION#")
    ]
    assert not {"allowed_origins", "hosted_only"} & set(session)
    table = Table.in_process()
    table.client.update_item(
        TableName=table.name,
        Key=typed_key(keys.Key(session["pk"], session["sk"])),
        UpdateExpression="SET allowed_origins = :origins, hosted_only = :hosted",
        ExpressionAttributeValues={
            ":origins": {"L": [{"S": "https://old.example"}]},
            ":hosted": {"BOOL": True},
        },
    )
    assert customer.call("GET", "/v1/devices").status == 200
