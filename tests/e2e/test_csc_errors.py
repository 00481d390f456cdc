"""End to end: a CSC client gets CSC-shaped errors ({"error": code, "error_description": text},
as docs/openapi.json documents for every /csc/v1 status) whichever layer refuses the request: the
function itself or the gateway's authorizer in front of it."""

from __future__ import annotations

import base64

import pytest
import requests

from tests.support.customers import connected

pytestmark = pytest.mark.e2e


def is_csc_error(response: requests.Response) -> bool:
    body = response.json()
    return (
        set(body) == {"error", "error_description"}
        and isinstance(body["error"], str)
        and isinstance(body["error_description"], str)
    )


def test_csc_errors_from_the_function_have_the_csc_shape(stack):
    customer = connected(stack)
    sad = customer.sad(1)
    cases = {
        "not base64": ["%%%"],
        "20 bytes, not a SHA-256": [base64.b64encode(b"x" * 20).decode()],
    }
    for label, hashes in cases.items():
        response = customer.sign_hash(sad, hashes)
        assert response.status_code == 400, (label, response.text)
        assert response.json()["error"] == "hash_invalid", label
        assert is_csc_error(response), response.text
    unknown_algo = customer.sign_hash(sad, [base64.b64encode(b"h" * 32).decode()], sign_algo="1.2.3.4")
    assert unknown_algo.status_code == 400 and unknown_algo.json()["error"] == "sign_algo_unsupported"
    assert is_csc_error(unknown_algo)


@pytest.mark.parametrize("token", ["", "fcs.not-a-session-token"], ids=["no-token", "malformed-token"])
def test_csc_calls_refused_by_the_authorizer_get_the_documented_gateway_error(stack, token):
    # API Gateway answers before any function runs, in one shape for the whole API; the CSC
    # OpenAPI documents its 401 as that shape (ErrorResponse), not the CSC one.
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(stack.url + "/csc/v1/credentials/list", json={}, headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
