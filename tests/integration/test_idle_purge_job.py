"""Daily idle purge (issue 4 items 4, 5, 6): warned on day 335 without use, purged on day 365
(KST calendar days), run as AWS would run it (planner, then the worker fed from the moto queue)."""

from __future__ import annotations

from datetime import date, timedelta

import boto3
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import last_use_attributes
from fincert.adapters.dynamodb.table import iso_millis
from fincert.wiring import services

from tests.support.customers import enroll, issue
from tests.support.in_process import REGION
from tests.support.jobs import kst, run, sms_to
from tests.support.people import ENROLLMENT, PHONE, PIN
from tests.support.table import (
    account_item,
    account_of,
    credentials,
    is_person,
    item,
    serial_record,
    table_items,
)

LAST_USE = kst(2026, 11, 25, 23, 30)  # the KST day 2026-11-25, 14:30 UTC
WARN_DAY = kst(2027, 10, 26, 0, 1)  # day 335
PURGE_DAY = kst(2027, 11, 25, 0, 0, 1)  # day 365


def _table():
    return boto3.resource("dynamodb", region_name=REGION).Table(services().settings.table_name)


def use_the_cloud(account_id: str, day: date) -> None:
    """What every use flow writes (fincert.adapters.dynamodb.items.last_use_attributes)."""
    attributes = last_use_attributes(account_id, day)
    _table().update_item(
        Key=keys.account(account_id).as_dict(),
        UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in attributes),
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={f":{k}": v for k, v in attributes.items()},
    )


def partition(account_id: str) -> list[dict]:
    return [i for i in table_items() if i["pk"] == keys.account_pk(account_id)]


def idle_customer(api, clock, **customer) -> tuple[str, dict]:
    clock.at = LAST_USE
    issued = issue(api, ENROLLMENT | customer) if customer else issue(api)
    return account_of(issued["credential_id"]), issued


def test_warned_on_day_335_not_334(api, clock, gateway):
    account_id, _ = idle_customer(api, clock)
    clock.at = WARN_DAY - timedelta(minutes=2)  # 23:59 KST on day 334
    assert run(gateway, "purge")["planned"]["enqueued"] == 0
    clock.at = WARN_DAY
    assert run(gateway, "purge")["planned"]["by_kind"] == {"warn": 1}
    [warning] = sms_to(PHONE, "삭제")
    assert "2027-11-25" in warning, "the warning names the purge day"
    account = account_item(account_id)
    assert (
        account["due_pk"] == keys.due_partition("idle-warned", account_id)
        and account["warned_on"] == "2027-10-26"
    )

    clock.at += timedelta(days=1)
    assert run(gateway, "purge")["planned"]["enqueued"] == 0, "warned once: not read again"
    assert len(sms_to(PHONE, "삭제")) == 1


def test_kept_364_days_after_the_last_use_purged_at_kst_midnight_of_day_365(api, clock, gateway):
    account_id, _ = idle_customer(api, clock)
    clock.at = WARN_DAY
    run(gateway, "purge")

    clock.at = PURGE_DAY - timedelta(seconds=2)  # 23:59:59 KST, day 364 (14:59:59 UTC)
    assert run(gateway, "purge")["planned"]["enqueued"] == 0
    assert account_item(account_id) is not None

    clock.at = PURGE_DAY  # 00:00:01 KST, day 365 (still the previous day in UTC)
    result = run(gateway, "purge")
    assert result["planned"]["by_kind"] == {"purge": 1} and result["failed"] == []
    assert account_item(account_id) is None


def test_a_purge_revokes_every_certificate_and_deletes_the_account_keeping_only_records(api, clock, gateway):
    clock.at = LAST_USE
    first = issue(api)
    second = issue(api, pin="246813")  # a reissue: the first is superseded
    account_id = account_of(second["credential_id"])
    person = keys.person(account_item(account_id)["person_index"])
    table = _table()
    # What the lead's flows keep under the account: all of it must go.
    for key in (
        keys.device(account_id, "d1"),
        keys.session(account_id, "s1"),
        keys.activation(account_id, "x1"),
    ):
        table.put_item(Item=key.as_dict())
    serials = {cid: c["serial"] for cid, c in credentials(account_id).items()}
    ttl_before = {s: serial_record(s)["expires_at"] for s in serials.values()}
    audit_before = [i for i in table_items() if i["pk"] == keys.audit_pk(account_id)]
    assert len(audit_before) == 3, "issued, issued and superseded: outside the account's partition"
    # Two credentials and the three above; the ACCOUNT item goes in the purge's first
    # transaction, not with these.
    assert len(partition(account_id)) == 1 + 5

    clock.at = WARN_DAY
    run(gateway, "purge")
    clock.at = PURGE_DAY
    assert run(gateway, "purge")["planned"]["by_kind"] == {"purge": 1}

    assert partition(account_id) == [], "credentials with their wrapped keys, registrations, devices ..."
    assert item(person) is None
    active_serial = serial_record(serials[second["credential_id"]])
    assert (active_serial["status"], active_serial["revocation_reason"]) == (
        "revoked",
        "cessationOfOperation",
    )
    superseded = serial_record(serials[first["credential_id"]])
    assert (superseded["status"], superseded["revocation_reason"]) == ("revoked", "superseded")
    for serial, ttl in ttl_before.items():
        assert serial_record(serial)["expires_at"] == ttl, "kept 5 years past notAfter for OCSP and the CRL"
    audit_after = [i for i in table_items() if i["pk"] == keys.audit_pk(account_id)]
    assert [i for i in audit_after if i in audit_before] == audit_before, "kept as they were"
    assert len(audit_after) == len(audit_before) + 1, "and the purge's revocation is audited"

    record = item(keys.purge_record(account_id))
    assert record["revoked_serials"] == [serials[second["credential_id"]]]
    assert record["last_used_day"] == "2026-11-25" and record["warned_on"] == "2027-10-26"
    assert "due_pk" not in record and record["items_deleted"] == 5
    assert not {"person_index", "identity_ciphertext", "holder_suffix", "pin_verifier"} & set(record)
    leftovers = [
        i
        for i in table_items()
        if account_id in str(i)
        and not i["pk"].startswith(
            (keys.SERIAL_PREFIX, keys.PURGE_PREFIX, keys.ENROLLMENT_PREFIX, keys.AUDIT_PREFIX)
        )
    ]
    assert leftovers == []
    assert run(gateway, "purge")["planned"]["enqueued"] == 0, "nothing left due"


def test_a_use_before_the_deadline_postpones_the_purge(api, clock, gateway):
    account_id, _ = idle_customer(api, clock)
    clock.at = WARN_DAY
    run(gateway, "purge")
    use_the_cloud(account_id, date(2027, 11, 20))  # five days before the purge day

    clock.at = PURGE_DAY
    assert run(gateway, "purge")["planned"]["enqueued"] == 0
    account = account_item(account_id)
    assert account is not None and account["due_pk"] == keys.due_partition("idle", account_id), (
        "no longer warned"
    )
    assert item(keys.purge_record(account_id)) is None


def test_a_use_racing_the_purge_keeps_the_account(api, clock, gateway, monkeypatch):
    account_id, issued = idle_customer(api, clock)
    clock.at = WARN_DAY
    run(gateway, "purge")
    clock.at = PURGE_DAY

    store = services().store
    read = store.get_idle_state

    def used_right_after_the_job_read_it(account):
        state = read(account)
        use_the_cloud(account, date(2027, 11, 25))  # lands between the read and the purge
        return state

    monkeypatch.setattr(store, "get_idle_state", used_right_after_the_job_read_it)
    result = run(gateway, "purge")
    monkeypatch.setattr(store, "get_idle_state", read)

    assert result["planned"]["by_kind"] == {"purge": 1} and result["failed"] == []
    assert account_item(account_id)["last_used_day"] == "2027-11-25"
    assert credentials(account_id)[issued["credential_id"]]["status"] == "active"
    assert serial_record(issued["serial_number"])["status"] == "issued"
    assert item(keys.purge_record(account_id)) is None


def test_a_reissue_in_flight_across_the_purge_fails_cleanly_and_recreates_nothing(
    api, clock, gateway, monkeypatch
):
    account_id, _ = idle_customer(api, clock)
    clock.at = WARN_DAY
    run(gateway, "purge")
    clock.at = PURGE_DAY
    enrollment_id = enroll(api)
    body = {"sms_code": api.last_sms_code(PHONE), "pin": PIN}

    store = services().store
    record = store.put_pre_signing_record
    purges = []

    def purged_while_the_reissue_signs(pre_signing):
        record(pre_signing)
        if not purges:  # the confirm has read the account; the purge runs to the end now
            purges.append(True)
            purges.append(run(gateway, "purge"))

    monkeypatch.setattr(store, "put_pre_signing_record", purged_while_the_reissue_signs)
    response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
    monkeypatch.setattr(store, "put_pre_signing_record", record)

    assert purges[1]["planned"]["by_kind"] == {"purge": 1} and purges[1]["failed"] == []
    assert response.status == 409, response.body
    assert partition(account_id) == [], "nothing written under the purged account"
    assert [i for i in table_items() if is_person(i)] == []


def test_a_revocation_that_failed_for_its_audit_entry_stops_the_purge(api, clock, gateway):
    """Only a serial already revoked may be skipped; a revocation that did not happen for any
    other reason (here its audit entry's key taken) keeps the account's keys and fails the task."""
    account_id, issued = idle_customer(api, clock)
    clock.at = WARN_DAY
    run(gateway, "purge")
    clock.at = PURGE_DAY
    entry_id = issued["serial_number"].lower()[:8] + "-purged"
    taken = keys.history(account_id, iso_millis(PURGE_DAY), entry_id)
    _table().put_item(Item={**taken.as_dict(), "event": "status_changed"})
    result = run(gateway, "purge")
    assert len(result["failed"]) == 1
    assert serial_record(issued["serial_number"])["status"] == "issued"
    assert credentials(account_id), "no key deleted while its certificate is still good"


def test_an_interrupted_purge_is_finished_by_the_next_run(api, clock, gateway, aws_calls):
    account_id, issued = idle_customer(api, clock)
    clock.at = WARN_DAY
    run(gateway, "purge")
    clock.at = PURGE_DAY
    aws_calls.fail_next("dynamodb.BatchWriteItem")
    result = run(gateway, "purge")
    assert len(result["failed"]) == 1

    assert account_item(account_id) is None, "purged: a request now finds no account"
    assert serial_record(issued["serial_number"])["status"] == "revoked", "revoked before any key is deleted"
    assert partition(account_id) != [], "the rest is still there"

    clock.at += timedelta(days=1)
    result = run(gateway, "purge")
    assert result["planned"]["by_kind"] == {"finish_purge": 1} and result["failed"] == []
    assert partition(account_id) == []
    record = item(keys.purge_record(account_id))
    assert "due_pk" not in record and record["revoked_serials"] == [issued["serial_number"]]


def test_a_warning_that_could_not_be_sent_is_sent_by_the_next_run(api, clock, gateway, aws_calls):
    account_id, _ = idle_customer(api, clock)
    clock.at = WARN_DAY
    aws_calls.fail_next("sns.Publish")
    assert len(run(gateway, "purge")["failed"]) == 1
    assert account_item(account_id)["due_pk"] == keys.due_partition("idle", account_id), "not marked warned"

    clock.at += timedelta(days=1)
    assert run(gateway, "purge")["planned"]["by_kind"] == {"warn": 1}
    [warning] = sms_to(PHONE, "삭제")
    assert "2027-11-26" in warning, "a late warning still gives 30 days"

    clock.at = PURGE_DAY  # day 365, but only 29 days after the warning
    run(gateway, "purge")
    assert account_item(account_id) is not None
    clock.at += timedelta(days=1)
    run(gateway, "purge")
    assert account_item(account_id) is None


def test_finding_idle_accounts_reads_only_the_due_ones(api, clock, gateway, aws_calls):
    idle_customer(api, clock)
    clock.at = LAST_USE + timedelta(days=100)
    for n in range(3):
        issue(api, ENROLLMENT | {"phone": f"010-8888-000{n}"})
    clock.at = WARN_DAY
    aws_calls.clear()
    result = run(gateway, "purge")
    assert result["planned"]["items_read"] == 1 and result["planned"]["enqueued"] == 1
    assert "dynamodb.Scan" not in aws_calls.calls
