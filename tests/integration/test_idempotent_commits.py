"""A transaction whose answer is lost after it committed is sent again by botocore's retry. With
a ClientRequestToken DynamoDB recognises the retry and answers success; without one the retry
fails its own conditions and the customer is told of a conflict for a change that was made.

Every TransactWriteItems carries a token: botocore fills in ClientRequestToken itself (the
service model marks it idempotencyToken) when the adapter gives none, and the same request, token
included, is what its retry sends. moto honours tokens only through the local corrections
(fincert_local.moto_fixes.client_request_token); these tests fail without them."""

from __future__ import annotations

from tests.support.customers import connected, digest_b64

TRANSACTION = "dynamodb.TransactWriteItems"


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
