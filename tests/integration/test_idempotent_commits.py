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

from tests.support.customers import connected, digest_b64
from tests.support.table import account_item

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
