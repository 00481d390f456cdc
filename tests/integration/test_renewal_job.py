"""Daily auto-renewal and expiry notices (issue 4 items 3, 5, 6), run as AWS would run them:
the planner on a schedule event, the worker on the SQS messages the planner put in moto."""

from __future__ import annotations

import base64
import subprocess
from datetime import datetime, timedelta

import boto3
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fincert.adapters.dynamodb import keys
from fincert.domain.jobs import plan
from fincert.domain.pin import pin_verifier_message
from fincert.wiring import services
from fincert_local.jobs import JOBS, drain, scheduled_event, sqs_event

from tests.support.customers import enroll, issue
from tests.support.in_process import REGION, load_event
from tests.support.jobs import DAY, kst, run, sms_to
from tests.support.people import ENROLLMENT, PHONE, PIN
from tests.support.table import account_item, account_of, active, credentials, serial_record, table_items
from tests.support.verifiers import pem_blocks

ISSUED_AT = kst(2026, 11, 25, 10, 0)  # notAfter 2029-11-25 09:59:59 KST
WINDOW_START = kst(2029, 10, 26)  # 30 KST days before the notAfter day


def _certificate(der_or_pem) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(der_or_pem))


def test_a_certificate_is_renewed_on_the_first_day_of_its_window_keeping_pin_and_subject(
    api, clock, gateway, tmp_path
):
    clock.at = ISSUED_AT
    issued = issue(api)
    account_id = account_of(issued["credential_id"])
    before = account_item(account_id)

    clock.at = WINDOW_START - timedelta(seconds=1)  # 23:59:59 KST the day before
    assert run(gateway, "renewal")["planned"]["enqueued"] == 0
    assert active(account_id) == [issued["credential_id"]]

    clock.at = WINDOW_START + timedelta(minutes=30)
    since = clock.at.strftime("%Y-%m-%dT%H:%M:%S")
    result = run(gateway, "renewal")
    assert result["planned"]["by_kind"] == {"renew": 1} and result["failed"] == []

    [new_id] = active(account_id)
    assert new_id != issued["credential_id"]
    stored = credentials(account_id)
    old, new = stored[issued["credential_id"]], stored[new_id]
    assert (old["status"], old["revocation_reason"]) == ("revoked", "superseded")
    assert serial_record(old["serial"])["status"] == "revoked"
    assert serial_record(old["serial"])["revocation_reason"] == "superseded"
    assert serial_record(new["serial"])["status"] == "issued"
    # The renewal's audit entries, in its transaction: the new certificate issued, the old revoked.
    audit = {
        e["event"]: e["detail"]
        for e in table_items()
        if e["pk"] == keys.audit_pk(account_id) and e["at"] > since
    }
    assert audit["issued"]["renewal"] == "true" and audit["issued"]["serial"] == new["serial"]
    assert (audit["status_changed"]["serial"], audit["status_changed"]["via"]) == (old["serial"], "renewal")

    old_cert, new_cert = _certificate(old["certificate"]), _certificate(new["certificate"])
    assert new_cert.subject == old_cert.subject
    assert new_cert.public_key() != old_cert.public_key(), "a new key pair"
    assert new_cert.public_key().key_size == old_cert.public_key().key_size  # same algorithm
    assert new_cert.not_valid_before_utc == clock.at
    # openssl judges the chain at the job's (simulated) time, three years from now.
    (tmp_path / "leaf.pem").write_bytes(new_cert.public_bytes(Encoding.PEM))
    issuing_pem, root_pem = pem_blocks(issued["chain_pem"])
    (tmp_path / "issuing.pem").write_text(issuing_pem)
    (tmp_path / "root.pem").write_text(root_pem)
    verified = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-attime",
            str(int(clock.at.timestamp()) + 60),
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "leaf.pem",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    after = account_item(account_id)
    # Same PIN: the verifier is untouched and still the MAC of the customer's PIN.
    assert after["pin_verifier"] == before["pin_verifier"]
    svc = services()
    mac = svc.kms.generate_mac(svc.settings.hmac_key_id, pin_verifier_message(after["person_index"], PIN))
    assert after["pin_verifier"] == "v1:" + base64.b64encode(mac).decode()
    assert after["active_credential_id"] == new_id
    # Renewal is not the customer using the cloud: the idle-purge clock does not move.
    assert after["last_used_day"] == before["last_used_day"]

    assert len(sms_to(PHONE, "자동 갱신")) == 1
    assert "due_pk" not in old, "the superseded certificate is no longer due"
    assert new["due_pk"].startswith("renew#") and new["due_sk"].startswith("2032-09-26#")  # its own window


def test_running_the_job_twice_or_delivering_twice_renews_once(api, clock, gateway):
    clock.at = ISSUED_AT
    issued = issue(api)
    account_id = account_of(issued["credential_id"])
    clock.at = WINDOW_START + timedelta(hours=3)

    # The planner fires twice before any worker runs: every entry is enqueued twice.
    planner = JOBS["renewal"].planner
    for _ in range(2):
        gateway.invoke(planner, scheduled_event(planner, REGION))
    drained = drain(gateway, "renewal", REGION)
    assert drained.messages == 2 and drained.failed == []
    assert run(gateway, "renewal")["planned"]["enqueued"] == 0, "the same day again: nothing due"

    assert len(credentials(account_id)) == 2, "one renewal"
    assert len(active(account_id)) == 1
    assert len(sms_to(PHONE, "자동 갱신")) == 1


def test_a_day_the_job_did_not_run_is_caught_up_the_next_day_with_the_same_algorithm(api, clock, gateway):
    clock.at = ISSUED_AT
    issued = issue(api, key_algorithm="EC_P256")
    account_id = account_of(issued["credential_id"])
    clock.at = WINDOW_START + 1 * DAY + timedelta(hours=2)  # no run on the window's first day
    assert run(gateway, "renewal")["planned"]["by_kind"] == {"renew": 1}
    [new_id] = active(account_id)
    assert new_id != issued["credential_id"]
    renewed = credentials(account_id)[new_id]
    assert renewed["key_algorithm"] == "EC_P256"
    assert _certificate(renewed["certificate"]).public_key().curve.name == "secp256r1"


def test_renewed_on_the_last_valid_day_but_never_after_expiry(api, clock, gateway):
    clock.at = ISSUED_AT
    first = issue(api)
    second = issue(api, ENROLLMENT | {"phone": "010-2222-3333", "name": "김서연"})
    not_after = _certificate_not_after(first)
    assert not_after == kst(2029, 11, 25, 9, 59, 59)

    # Only `second` is due when the job first runs, on the last valid day of both.
    _hold_back(first["credential_id"])
    clock.at = not_after - timedelta(hours=1)
    assert run(gateway, "renewal")["planned"]["by_kind"] == {"renew": 1}
    assert active(account_of(second["credential_id"])) != [second["credential_id"]], "renewed"

    # A second after notAfter the first one is expired: not renewed, no longer due.
    _release(first["credential_id"])
    clock.at = not_after + timedelta(seconds=1)
    result = run(gateway, "renewal")
    assert result["planned"]["by_kind"] == {"renew": 1}
    account_id = account_of(first["credential_id"])
    assert active(account_id) == [first["credential_id"]], "not renewed: the customer reissues"
    assert len(credentials(account_id)) == 1
    assert "due_pk" not in credentials(account_id)[first["credential_id"]]


def _certificate_not_after(issued: dict) -> datetime:
    return x509.load_pem_x509_certificate(issued["certificate_pem"].encode()).not_valid_after_utc


_held: dict[str, tuple[str, str]] = {}


def _hold_back(credential_id: str) -> None:
    """Takes a credential out of `due` for a while (as if its entry had not come up yet)."""
    account_id = account_of(credential_id)
    table = boto3.resource("dynamodb", region_name=REGION).Table(services().settings.table_name)
    key = keys.credential(account_id, credential_id).as_dict()
    old = table.get_item(Key=key)["Item"]
    _held[credential_id] = (old["due_pk"], old["due_sk"])
    table.update_item(Key=key, UpdateExpression="REMOVE due_pk, due_sk")


def _release(credential_id: str) -> None:
    account_id = account_of(credential_id)
    table = boto3.resource("dynamodb", region_name=REGION).Table(services().settings.table_name)
    due_pk, due_sk = _held.pop(credential_id)
    table.update_item(
        Key=keys.credential(account_id, credential_id).as_dict(),
        UpdateExpression="SET due_pk = :p, due_sk = :s",
        ExpressionAttributeValues={":p": due_pk, ":s": due_sk},
    )


def test_a_leap_day_certificate_ends_feb_28_and_its_window_counts_from_there(api, clock, gateway):
    clock.at = kst(2028, 2, 29, 12, 0)
    issued = issue(api)
    account_id = account_of(issued["credential_id"])
    assert _certificate_not_after(issued) == kst(2031, 2, 28, 11, 59, 59)

    clock.at = kst(2031, 1, 28, 23, 59)  # window starts 30 days before 28 Feb: 29 January
    assert run(gateway, "renewal")["planned"]["enqueued"] == 0
    clock.at = kst(2031, 1, 29, 0, 1)
    assert run(gateway, "renewal")["planned"]["by_kind"] == {"renew": 1}
    [new_id] = active(account_id)
    assert new_id != issued["credential_id"]


def test_a_certificate_that_did_not_opt_in_gets_one_expiry_notice_and_is_not_renewed(api, clock, gateway):
    clock.at = ISSUED_AT
    issued = issue(api, auto_renew=False)
    account_id = account_of(issued["credential_id"])

    clock.at = WINDOW_START + timedelta(hours=1)
    assert run(gateway, "renewal")["planned"]["by_kind"] == {"expiry_notice": 1}
    clock.at += DAY
    assert run(gateway, "renewal")["planned"]["enqueued"] == 0

    notices = sms_to(PHONE, "만료")
    assert len(notices) == 1 and "2029-11-25" in notices[0]
    assert active(account_id) == [issued["credential_id"]] and len(credentials(account_id)) == 1


def test_a_failure_on_one_certificate_does_not_stop_the_others_and_is_retried_next_run(
    api, clock, gateway, aws_calls
):
    clock.at = ISSUED_AT
    customers = [ENROLLMENT | {"phone": f"010-5555-000{n}"} for n in range(3)]
    accounts = [account_of(issue(api, customer)["credential_id"]) for customer in customers]

    clock.at = WINDOW_START + timedelta(hours=1)
    aws_calls.fail_next("dynamodb.TransactWriteItems")  # one renewal's commit
    result = run(gateway, "renewal")
    assert result["planned"]["by_kind"] == {"renew": 3}
    assert len(result["failed"]) == 1
    renewed = [a for a in accounts if len(credentials(a)) == 2]
    assert len(renewed) == 2, "the other two were renewed"
    [failed] = [a for a in accounts if a not in renewed]
    assert len(active(failed)) == 1 and len(credentials(failed)) == 1, "nothing half-written"

    clock.at += DAY
    result = run(gateway, "renewal")
    assert result["planned"]["by_kind"] == {"renew": 1} and result["failed"] == []
    assert len(credentials(failed)) == 2 and len(active(failed)) == 1


def test_finding_what_is_due_reads_only_due_entries_never_scans(api, clock, gateway, aws_calls):
    clock.at = ISSUED_AT
    issue(api)
    clock.at = ISSUED_AT + timedelta(days=200)
    for n in range(3):  # issued later: not due yet
        issue(api, ENROLLMENT | {"phone": f"010-7777-000{n}"})

    clock.at = WINDOW_START + timedelta(hours=1)
    aws_calls.clear()
    planner = JOBS["renewal"].planner
    summary = gateway.invoke(planner, scheduled_event(planner, REGION))
    assert summary["items_read"] == 1 and summary["enqueued"] == 1
    assert "dynamodb.Scan" not in aws_calls.calls
    assert set(aws_calls.calls) == {"dynamodb.Query", "sqs.SendMessageBatch"}


def test_a_planner_short_of_time_hands_its_queries_to_the_workers(api, clock, gateway):
    clock.at = ISSUED_AT
    issued = issue(api)
    clock.at = WINDOW_START + timedelta(hours=1)
    svc = services()
    queue = svc.job_queue(svc.settings.renewal_queue_url)
    report = plan(svc.store, queue, svc.renewal_job.tasks(), time_left_ms=lambda: 1_000)
    assert (report.enqueued, report.handed_over) == (0, 32), "stopped before the first query"

    drained = drain(gateway, "renewal", REGION)  # workers continue the plan, then renew
    assert drained.failed == []
    assert active(account_of(issued["credential_id"])) != [issued["credential_id"]]


def test_a_worker_short_of_time_returns_its_messages_untouched(api, clock, gateway):
    clock.at = ISSUED_AT
    issued = issue(api)
    clock.at = WINDOW_START + timedelta(hours=1)
    planner = JOBS["renewal"].planner
    gateway.invoke(planner, scheduled_event(planner, REGION))

    sqs = boto3.client("sqs", region_name=REGION)
    url = services().settings.renewal_queue_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    class Hurried:
        function_name = "RenewalWorkerFunction"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:RenewalWorkerFunction"
        aws_request_id = "hurried"

        def get_remaining_time_in_millis(self) -> int:
            return 5_000

    handler = gateway.handler(JOBS["renewal"].worker)
    result = handler(sqs_event(messages, "arn:aws:sqs:ap-northeast-2:123456789012:q", REGION), Hurried())
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [m["MessageId"] for m in messages]
    assert active(account_of(issued["credential_id"])) == [issued["credential_id"]], "nothing done"


def test_the_schedule_event_fixtures_fire_the_planners(gateway, ca):
    for name, job in (("renewal_schedule.json", "renewal"), ("purge_schedule.json", "purge")):
        summary = gateway.invoke(JOBS[job].planner, load_event(name))
        assert summary["complete"] is True and summary["enqueued"] == 0


def test_no_item_is_left_due_for_a_renewed_or_superseded_certificate(api, clock, gateway):
    clock.at = ISSUED_AT
    first = issue(api)
    second = issue(api, pin="246813")  # a reissue supersedes the first
    account_id = account_of(second["credential_id"])
    stored = credentials(account_id)
    assert "due_pk" not in stored[first["credential_id"]]
    assert stored[second["credential_id"]]["due_pk"] == keys.due_partition("renew", account_id)
    assert [
        i
        for i in table_items()
        if i.get("due_pk") in {*keys.due_partitions("renew"), *keys.due_partitions("expiry")}
    ] == [stored[second["credential_id"]]]


# --- a renewal racing a reissue by the customer: exactly one active certificate -----------------


def _prepare_reissue(api) -> tuple[str, dict]:
    enrollment_id = enroll(api)
    return enrollment_id, {"sms_code": api.last_sms_code(PHONE), "pin": "246813"}


def test_a_reissue_committing_while_the_renewal_signs_wins_and_the_renewal_is_revoked(
    api, clock, gateway, monkeypatch
):
    clock.at = ISSUED_AT
    issued = issue(api)
    account_id = account_of(issued["credential_id"])
    clock.at = WINDOW_START + timedelta(hours=1)
    enrollment_id, body = _prepare_reissue(api)

    store = services().store
    record = store.put_pre_signing_record
    reissued = []
    renewal_serials = []

    def the_customer_reissues_meanwhile(pre_signing):
        record(pre_signing)
        if not renewal_serials:  # the renewal's record: the reissue runs (and records) right now
            renewal_serials.append(format(pre_signing.serial_number, "x"))
            reissued.append(api.post(f"/v1/enrollments/{enrollment_id}/confirm", body))

    monkeypatch.setattr(store, "put_pre_signing_record", the_customer_reissues_meanwhile)
    result = run(gateway, "renewal")
    monkeypatch.setattr(store, "put_pre_signing_record", record)

    assert reissued[0].status == 201 and result["failed"] == []
    reissue_id = reissued[0].json()["credential_id"]
    assert active(account_id) == [reissue_id], "exactly one active: the customer's"
    assert len(credentials(account_id)) == 2, "the renewal stored nothing"
    [serial] = renewal_serials
    renewal_record = serial_record(serial)
    assert renewal_record["status"] == "revoked", "the renewal's signed certificate cannot stay good"
    assert "due_pk" not in renewal_record
    assert run(gateway, "renewal")["planned"]["enqueued"] == 0


def test_a_renewal_committing_while_a_reissue_signs_is_superseded_by_the_reissue(
    api, clock, gateway, monkeypatch
):
    clock.at = ISSUED_AT
    issued = issue(api)
    account_id = account_of(issued["credential_id"])
    clock.at = WINDOW_START + timedelta(hours=1)
    enrollment_id, body = _prepare_reissue(api)

    store = services().store
    record = store.put_pre_signing_record
    renewals = []
    started = []

    def the_job_renews_meanwhile(pre_signing):
        record(pre_signing)
        if not started:  # the reissue has read the account; the renewal runs and commits now
            started.append(True)
            renewals.append(run(gateway, "renewal"))

    monkeypatch.setattr(store, "put_pre_signing_record", the_job_renews_meanwhile)
    response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
    monkeypatch.setattr(store, "put_pre_signing_record", record)

    assert response.status == 201, response.body
    assert renewals[0]["planned"]["by_kind"] == {"renew": 1} and renewals[0]["failed"] == []
    reissue_id = response.json()["credential_id"]
    stored = credentials(account_id)
    assert len(stored) == 3, "original, renewal, reissue"
    assert active(account_id) == [reissue_id], "exactly one active: the reissue superseded the renewal"
    [renewed_id] = [c for c in stored if c not in (issued["credential_id"], reissue_id)]
    assert (stored[renewed_id]["status"], stored[renewed_id]["revocation_reason"]) == (
        "revoked",
        "superseded",
    )
    assert serial_record(stored[renewed_id]["serial"])["status"] == "revoked"
    assert "due_pk" not in stored[renewed_id]


def test_an_sms_failure_after_a_renewal_leaves_the_renewal_standing(api, clock, gateway, aws_calls):
    clock.at = ISSUED_AT
    issued = issue(api)
    account_id = account_of(issued["credential_id"])
    clock.at = WINDOW_START + timedelta(hours=1)
    aws_calls.fail_next("sns.Publish")
    result = run(gateway, "renewal")
    assert result["failed"] == [], "a redelivery would only find the renewal done"
    assert active(account_id) != [issued["credential_id"]] and len(credentials(account_id)) == 2
    assert sms_to(PHONE, "자동 갱신") == []


def test_an_expiry_notice_that_could_not_be_sent_is_sent_by_the_next_run(api, clock, gateway, aws_calls):
    clock.at = ISSUED_AT
    issue(api, auto_renew=False)
    clock.at = WINDOW_START + timedelta(hours=1)
    aws_calls.fail_next("sns.Publish")
    assert len(run(gateway, "renewal")["failed"]) == 1
    assert sms_to(PHONE, "만료") == []

    clock.at += DAY
    assert run(gateway, "renewal")["planned"]["by_kind"] == {"expiry_notice": 1}
    assert len(sms_to(PHONE, "만료")) == 1
