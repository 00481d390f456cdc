"""A write whose answer is lost after it committed is sent again by botocore's retry. With a
ClientRequestToken DynamoDB recognises the retry of a transaction and answers success; without
one the retry fails its own conditions and the customer is told of a conflict for a change that
was made. A single UpdateItem has no such token: the PIN slot reservation carries its own, kept
in the account, so its retry is answered with the slot it reserved instead of a second one.

Every TransactWriteItems carries a token: botocore fills in ClientRequestToken itself (the
service model marks it idempotencyToken) when the adapter gives none, and the same request, token
included, is what its retry sends. moto honours tokens only through the local corrections
(fincert_local.moto_fixes.client_request_token); these tests fail without them."""

from __future__ import annotations

from fincert.adapters.dynamodb import keys

from tests.support.customers import Customer, connected, digest_b64, enroll
from tests.support.people import CUSTOMER, PHONE, PIN
from tests.support.table import account_item, item

TRANSACTION = "dynamodb.TransactWriteItems"
UPDATE = "dynamodb.UpdateItem"
WRONG = "975313"


def _error(response) -> str:
    return response.json()["error"]


def _failures(account_id: str) -> int:
    item = account_item(account_id)
    return int(item["pin_attempts"]) - int(item["pin_cleared"])


def test_an_authorization_whose_answer_was_lost_is_answered_as_made(api, aws_calls):
    customer = connected(api)
    digest = digest_b64("lost answer")
    aws_calls.lose_next_answer(TRANSACTION)
    response = customer.authorize(1, [digest])
    assert response.status == 200, response.body
    assert customer.sign_hash(response.json()["SAD"], [digest]).status == 200


def test_a_signature_whose_sad_spending_answer_was_lost_is_returned_once(api, aws_calls):
    customer = connected(api)
    digest = digest_b64("spent once")
    sad = customer.authorize(1, [digest]).json()["SAD"]
    aws_calls.lose_next_answer(TRANSACTION)
    response = customer.sign_hash(sad, [digest])
    assert response.status == 200, response.body
    assert len(response.json()["signatures"]) == 1
    assert customer.sign_hash(sad, [digest]).json()["error"] == "sad_exhausted"
    signed = [e for e in customer.call("GET", "/v1/history").json()["entries"] if e["event"] == "signed"]
    assert len(signed) == 1


def test_a_pin_change_whose_answer_was_lost_is_answered_as_made(api, aws_calls):
    customer = connected(api)
    aws_calls.lose_next_answer(TRANSACTION)
    response = customer.call("PUT", "/v1/pin", {"pin": customer.pin, "new_pin": "246813"})
    assert response.status == 204, response.body
    customer.pin = "246813"
    assert customer.authorize(1, [digest_b64("new pin")]).status == 200


def test_a_wrong_pin_whose_slot_reservation_answer_was_lost_counts_one_attempt(api, aws_calls):
    customer = connected(api)
    aws_calls.lose_next_answer(UPDATE)  # authorize's first write: the PIN slot reservation
    first = customer.authorize(pin=WRONG)
    assert (first.status, _error(first)) == (400, "pin_invalid")
    assert _failures(customer.account_id) == 1
    # Five wrong PINs in all lock it, the fifth says so; not 409 pin_attempt_in_flight for a
    # slot nobody is judging, nor a lock after four.
    rest = [customer.authorize(pin=WRONG) for _ in range(4)]
    assert [(r.status, _error(r)) for r in rest] == [(400, "pin_invalid")] * 3 + [(403, "pin_locked")]


def test_a_right_pin_whose_slot_reservation_answer_was_lost_is_answered_as_made(api, aws_calls):
    customer = connected(api)
    for _ in range(4):
        assert customer.authorize(pin=WRONG).status == 400
    # The last free slot: its retry must find its own reservation, not a full count.
    aws_calls.lose_next_answer(UPDATE)
    digest = digest_b64("last slot")
    response = customer.authorize(1, [digest])
    assert response.status == 200, response.body
    assert _failures(customer.account_id) == 0
    assert customer.sign_hash(response.json()["SAD"], [digest]).status == 200


def test_a_confirm_whose_enrollment_claim_answer_was_lost_issues_the_certificate(api, aws_calls):
    enrollment_id = enroll(api)
    code = api.last_sms_code(PHONE)
    aws_calls.lose_next_answer(UPDATE)  # the confirm's first write: the claim (attempt + lease)
    response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN})
    assert response.status == 201, response.body
    assert int(item(keys.enrollment(enrollment_id))["attempts"]) == 1


def test_a_right_sms_code_whose_claim_answer_was_lost_at_the_last_attempt_connects(api, aws_calls):
    customer = Customer(api, CUSTOMER)
    customer.issue()
    verification_id = customer.start_connection()
    right = api.last_sms_code(customer.phone)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(4):
        assert api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": wrong}).status == 400
    aws_calls.lose_next_answer(UPDATE)  # the confirm's first write: the claim of the last attempt
    response = api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": right})
    assert response.status == 201, response.body


def test_a_wrong_sms_code_whose_claim_answer_was_lost_counts_one_attempt(api, aws_calls):
    customer = Customer(api, CUSTOMER)
    customer.issue()
    verification_id = customer.start_connection()
    right = api.last_sms_code(customer.phone)
    wrong = "000000" if right != "000000" else "111111"
    aws_calls.lose_next_answer(UPDATE)
    response = api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": wrong})
    assert response.json()["error"]["details"]["remaining_attempts"] == 4
    assert api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": right}).status == 201


def test_an_attempt_given_back_after_a_fault_whose_answer_was_lost_is_given_back_once(api, aws_calls):
    customer = Customer(api, CUSTOMER)
    customer.issue()
    verification_id = customer.start_connection()
    right = api.last_sms_code(customer.phone)
    wrong = "000000" if right != "000000" else "111111"
    confirm = f"/v1/connections/{verification_id}/confirm"
    assert api.post(confirm, {"sms_code": wrong}).json()["error"]["details"]["remaining_attempts"] == 4
    # The code cannot be checked (KMS fails): the attempt is given back, and that write's
    # answer is lost, so botocore sends it again.
    aws_calls.fail_next("kms.Decrypt")
    aws_calls.lose_next_answer(UPDATE, after=1)  # past the claim: the refund
    assert api.post(confirm, {"sms_code": wrong}).status == 503
    # One attempt given back, not two: the first wrong code still counts.
    assert api.post(confirm, {"sms_code": wrong}).json()["error"]["details"]["remaining_attempts"] == 3
