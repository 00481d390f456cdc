"""Races settled by DynamoDB's conditions (not by the in-memory fake): deterministic
interleavings through the real adapter against moto."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fincert.errors import ConditionFailed

from tests.support.customers import enroll
from tests.support.people import PHONE, PIN
from tests.support.table import is_account, is_credential, table_items


def credentials(svc) -> dict[str, dict]:
    return {i["credential_id"]: i for i in table_items(svc) if is_credential(i)}


def test_a_reissue_landing_between_read_and_commit_is_superseded_not_left_active(api, svc, monkeypatch):
    first = enroll(api)
    first_body = {"sms_code": api.last_sms_code(PHONE), "pin": PIN}
    assert api.post(f"/v1/enrollments/{first}/confirm", first_body).status == 201

    slow = enroll(api)
    slow_body = {"sms_code": api.last_sms_code(PHONE), "pin": "246813"}
    fast = enroll(api)
    fast_body = {"sms_code": api.last_sms_code(PHONE), "pin": "802468"}

    # The slow confirm has read the account when it records what it is about to sign; right
    # then, a whole other reissue for the same person runs and commits.
    record = svc.store.put_pre_signing_record
    interleaved = []
    started = []

    def record_then_let_the_other_one_finish(pre_signing):
        record(pre_signing)
        if not started:  # once: the other confirm records too, through this same hook
            started.append(True)
            interleaved.append(api.post(f"/v1/enrollments/{fast}/confirm", fast_body))

    monkeypatch.setattr(svc.store, "put_pre_signing_record", record_then_let_the_other_one_finish)
    slow_response = api.post(f"/v1/enrollments/{slow}/confirm", slow_body)

    assert interleaved[0].status == 201
    assert slow_response.status == 201, slow_response.body
    fast_id, slow_id = interleaved[0].json()["credential_id"], slow_response.json()["credential_id"]
    stored = credentials(svc)
    assert [cid for cid, c in stored.items() if c["status"] == "active"] == [slow_id], "exactly one active"
    assert (stored[fast_id]["status"], stored[fast_id]["revocation_reason"]) == ("revoked", "superseded")
    account = next(i for i in table_items(svc) if is_account(i))
    assert account["active_credential_id"] == slow_id


def test_a_commit_whose_lease_was_taken_over_writes_nothing(api, svc, monkeypatch):
    enrollment_id = enroll(api)
    body = {"sms_code": api.last_sms_code(PHONE), "pin": PIN}
    commit = svc.store.commit_issuance
    seen = {}

    def commit_with_a_lost_lease(issuance):
        seen["commit"] = issuance
        # Another confirm's lease replaced ours: the enrollment's condition must refuse.
        commit(replace(issuance, lease_until=issuance.lease_until + timedelta(milliseconds=1)))

    monkeypatch.setattr(svc.store, "commit_issuance", commit_with_a_lost_lease)
    before = credentials(svc)
    response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
    assert response.status == 409
    assert response.json()["error"]["code"] == "enrollment_in_progress"
    assert credentials(svc) == before, "nothing of the issuance was written"
    with pytest.raises(ConditionFailed) as refused:
        commit(replace(seen["commit"], lease_until=seen["commit"].lease_until + timedelta(milliseconds=1)))
    assert refused.value.reasons == ["enrollment"]
