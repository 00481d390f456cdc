"""An AWS fault at any call of enrollment or issuance leaves no partial state, answers 503 with
a retry hint, and a retry succeeds with exactly one certificate."""

from __future__ import annotations

import pytest
from fincert.adapters.dynamodb import keys
from fincert.settings import Settings
from fincert.wiring import Services, services, use_services

from tests.support.customers import enroll
from tests.support.people import ENROLLMENT, PHONE, PIN
from tests.support.table import (
    is_account,
    is_credential,
    is_presigned,
    is_rate_limit,
    serials_in,
    table_items,
)


@pytest.fixture(autouse=True)
def _many_sms_per_phone(aws, monkeypatch):
    """These tests enroll one customer many times; the per-phone SMS limit is not under test."""
    monkeypatch.setenv("SMS_PER_PHONE_PER_HOUR", "1000")
    use_services(Services(Settings.from_env(), clients=services().clients))


def confirm_calls(api, aws_calls) -> list[str]:
    """The AWS calls of one successful confirm, in order (measured on a throwaway customer)."""
    enrollment_id = enroll(api, ENROLLMENT | {"phone": "010-5555-0000"})
    code = api.last_sms_code("+821055550000")
    services().certificate_authority()  # a warm container has read the CA already
    aws_calls.clear()
    assert api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN}).status == 201
    return list(aws_calls.calls)


def meaningful(items: list[dict]) -> list[dict]:
    """A rate counter given back to zero is the same state as no counter (it expires by TTL)."""
    return [i for i in items if not (is_rate_limit(i) and i["count"] == 0)]


def assert_consistent(svc) -> None:
    items = table_items(svc)
    credentials = {keys.credential_id_of(i["sk"]): i for i in items if is_credential(i)}
    for account in (i for i in items if is_account(i)):
        active = account.get("active_credential_id")
        assert active in credentials, "an account points only at a stored credential"
        assert credentials[active]["wrapped_private_key"], "no active certificate without its key"
        assert credentials[active]["status"] == "active"
    per_account: dict[str, int] = {}
    for credential in credentials.values():
        if credential["status"] == "active":
            per_account[credential["pk"]] = per_account.get(credential["pk"], 0) + 1
    assert all(n == 1 for n in per_account.values()), "at most one active certificate per person"
    serials = serials_in(items)
    for credential in credentials.values():
        assert serials[int(credential["serial"], 16)]["status"] in {"issued", "revoked"}, (
            "every certificate has its record"
        )


@pytest.mark.parametrize("existing_account", [False, True], ids=["new-account", "reissue"])
def test_a_fault_at_every_confirm_call_leaves_no_partial_state_and_a_retry_succeeds(
    api, svc, aws_calls, existing_account
):
    calls = confirm_calls(api, aws_calls)
    if existing_account:
        # Reissue path: the customer already has an account and a certificate.
        enrollment_id = enroll(api)
        api.post(
            f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": api.last_sms_code(PHONE), "pin": PIN}
        )
    assert calls[0] == "dynamodb.GetItem"  # the authorizer's read: its fault is a 503 too
    for position, operation in enumerate(calls, start=1):
        enrollment_id = enroll(api)
        body = {"sms_code": api.last_sms_code(PHONE), "pin": PIN}
        presigned_before = {i["pk"] for i in table_items(svc) if is_presigned(i)}
        aws_calls.clear()
        aws_calls.fail_call(position)
        failed = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
        assert failed.status == 503, f"fault at call {position} ({operation}): {failed.body}"
        assert failed.json()["error"]["code"] == "service_unavailable"
        assert int(failed.header("Retry-After")) >= 1
        assert_consistent(svc)
        signing_attempted = "kms.Sign" in aws_calls.calls
        presigned = [i for i in table_items(svc) if is_presigned(i) and i["pk"] not in presigned_before]
        if signing_attempted:
            assert len(presigned) == 1, "what the CA signed (or tried to) is recorded"
        else:
            assert not presigned, f"no pre-signing record when nothing was signed ({operation})"

        retried = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
        assert retried.status == 201, f"retry after a fault at {operation}: {retried.body}"
        again = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
        assert again.json()["credential_id"] == retried.json()["credential_id"], (
            "no second certificate on retry"
        )
        assert_consistent(svc)
        # The only leftover allowed is that pre-signing record, for the reconciler to revoke.
        leftovers = {i["pk"] for i in table_items(svc) if is_presigned(i)} - presigned_before
        assert leftovers == {i["pk"] for i in presigned}


def test_a_fault_at_every_enrollment_start_call_leaves_nothing_behind(api, svc, aws_calls):
    aws_calls.clear()
    enroll(api, ENROLLMENT | {"phone": "010-5555-0001"})
    calls = list(aws_calls.calls)
    assert calls[-1] == "sns.Publish"
    before = table_items(svc)
    assert calls[0] == "dynamodb.GetItem"  # the authorizer's read: its fault is a 503 too
    for position, operation in enumerate(calls, start=1):
        aws_calls.clear()
        aws_calls.fail_call(position)
        response = api.post("/v1/enrollments", ENROLLMENT)
        assert response.status == 503, f"fault at {operation}: {response.body}"
        assert meaningful(table_items(svc)) == meaningful(before), f"fault at {operation} left state behind"
    assert api.post("/v1/enrollments", ENROLLMENT).status == 201


def test_confirm_stays_within_its_round_trip_budget(api, aws_calls):
    calls = confirm_calls(api, aws_calls)
    own = calls[1:] if calls[0] == "dynamodb.GetItem" else calls  # the authorizer's read is excluded
    assert len(own) <= 8, own
