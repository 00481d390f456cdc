"""End to end: status changes (issue 4 item 1) through the local stack. `openssl ocsp -url`, as a
relying party runs it, sees a suspension, a restore and a revocation at once; and, concurrently,
changes of one certificate racing each other: each change is one conditional transaction, so
exactly one of a set of conflicting changes wins, nothing is half-applied, and the history has
one line per change."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.customers import connected, history_events, outcome
from tests.support.ocsp import ocsp_status_over_http, write_issued
from tests.support.racing import race

pytestmark = pytest.mark.e2e

LOST_RACE = {(409, "credential_not_active"), (409, "status_changed"), (404, "certificate_not_found")}


def change(customer, action: str, **extra):
    return lambda http: customer.call(
        "POST", "/v1/certificate/status", {"action": action, "pin": customer.pin} | extra, http=http
    )


def test_openssl_ocsp_follows_suspend_restore_and_revoke(stack, tmp_path):
    customer = connected(stack)
    write_issued(tmp_path, customer.issued)
    ocsp_url = stack.url + "/pki/ocsp"
    assert ocsp_status_over_http(tmp_path, ocsp_url)[0] == "leaf.pem: good"

    assert change(customer, "suspend")(None).status_code == 200
    lines = ocsp_status_over_http(tmp_path, ocsp_url)
    assert lines[0] == "leaf.pem: revoked" and "Reason: certificateHold" in lines

    started = stack.post("/v1/status-changes", customer.identity)
    assert started.status_code == 201, started.text
    restored = stack.post(
        f"/v1/status-changes/{started.json()['verification_id']}/confirm",
        {"sms_code": stack.sms_code(customer.phone), "action": "restore"},
    )
    assert restored.status_code == 200, restored.text
    assert ocsp_status_over_http(tmp_path, ocsp_url)[0] == "leaf.pem: good"

    assert change(customer, "revoke", reason="affiliationChanged")(None).status_code == 200
    lines = ocsp_status_over_http(tmp_path, ocsp_url)
    assert lines[0] == "leaf.pem: revoked" and "Reason: affiliationChanged" in lines


# At most 5 PIN attempts of one account are in flight at once (each reserves a slot before it is
# judged, and 5 unjudged slots could be 5 wrong PINs): a 6th is refused as pin_locked whatever
# its PIN. So each race below sends at most 5 requests, all with the right PIN.


def test_five_parallel_suspensions_suspend_once(stack):
    customer = connected(stack)

    responses = race(stack, [change(customer, "suspend")] * 5)

    outcomes = Counter(outcome(r) for r in responses)
    assert outcomes[(200, "")] == 1, outcomes
    assert set(outcomes) - {(200, "")} <= LOST_RACE, outcomes
    assert customer.call("GET", "/v1/certificate").json()["status"] == "suspended"
    assert history_events(customer)["status_changed"] == 1
    item = customer.account_item()
    assert item["credential_suspended"] is True
    assert int(item["pin_attempts"]) - int(item["pin_cleared"]) == 0, "no wrong PIN was counted"


def test_suspensions_racing_revocations_end_revoked_once(stack):
    customer = connected(stack)

    calls = [change(customer, "suspend"), change(customer, "revoke", reason="keyCompromise")] * 2
    responses = race(stack, calls)

    suspends = Counter(outcome(r) for r in responses[0::2])
    revokes = Counter(outcome(r) for r in responses[1::2])
    assert revokes[(200, "")] == 1, revokes
    assert suspends[(200, "")] <= 1, suspends
    assert set(suspends) - {(200, "")} <= LOST_RACE and set(revokes) - {(200, "")} <= LOST_RACE
    assert history_events(customer)["status_changed"] == revokes[(200, "")] + suspends[(200, "")]
    assert outcome(customer.call("GET", "/v1/certificate")) == (404, "certificate_not_found")
    assert outcome(customer.sign_content("로그인", "raw")) == (404, "certificate_not_found")
