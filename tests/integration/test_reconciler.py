"""The pre-signing reconciler revokes what the CA signed but issuance never stored."""

from __future__ import annotations

from datetime import timedelta

from fincert.adapters.dynamodb import keys
from fincert.domain.reconcile import GRACE

from tests.support.customers import enroll
from tests.support.in_process import load_event
from tests.support.people import ENROLLMENT, PHONE, PIN
from tests.support.table import Table, is_presigned, table_items


def leave_an_unstored_certificate(api, svc, aws_calls) -> int:
    """A confirm whose final transaction fails: signed, recorded, never stored."""
    enrollment_id = enroll(api)
    body = {"sms_code": api.last_sms_code(PHONE), "pin": PIN}
    aws_calls.fail_next("dynamodb.TransactWriteItems")
    assert api.post(f"/v1/enrollments/{enrollment_id}/confirm", body).status == 503
    (record,) = [i for i in table_items(svc) if is_presigned(i)]
    return keys.serial_number_of(record["pk"])


def serial_record(svc, serial: int) -> dict:
    return Table.in_process(svc).serial_record(serial)


def run_reconciler(gateway) -> dict:
    return gateway.invoke("ReconcilerFunction", load_event("reconciler_schedule.json"))


def test_an_unstored_certificate_is_revoked_after_the_grace_period(api, svc, clock, aws_calls, gateway):
    serial = leave_an_unstored_certificate(api, svc, aws_calls)

    clock.at += GRACE - timedelta(seconds=1)
    assert run_reconciler(gateway)["revoked"] == [], "an issuance may still be finishing"
    assert serial_record(svc, serial)["status"] == "presigned"

    clock.at += timedelta(seconds=2)
    summary = run_reconciler(gateway)
    assert summary["revoked"] == [keys.serial_hex(serial)]
    record = serial_record(svc, serial)
    assert (record["status"], record["revocation_reason"]) == ("revoked", "cessationOfOperation")
    assert "due_pk" not in record, "no longer due"

    assert run_reconciler(gateway)["revoked"] == [], "running again changes nothing"


def test_stored_certificates_are_never_touched(api, svc, clock, gateway):
    enrollment_id = enroll(api, ENROLLMENT)
    issued = api.post(
        f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": api.last_sms_code(PHONE), "pin": PIN}
    )
    assert issued.status == 201
    clock.at += timedelta(days=1)
    assert run_reconciler(gateway)["revoked"] == []
    record = serial_record(svc, int(issued.json()["serial_number"], 16))
    assert record["status"] == "issued"


def test_reading_what_is_due_costs_one_item_per_due_record(api, svc, clock, aws_calls, gateway):
    leave_an_unstored_certificate(api, svc, aws_calls)
    for _ in range(3):  # stored certificates: they must not be read to find the due one
        enrollment_id = enroll(api, ENROLLMENT)
        api.post(
            f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": api.last_sms_code(PHONE), "pin": PIN}
        )
    clock.at += GRACE + timedelta(seconds=1)
    aws_calls.clear()
    summary = run_reconciler(gateway)
    assert len(summary["revoked"]) == 1
    assert aws_calls.calls == ["dynamodb.Query", "dynamodb.UpdateItem"], "a query of the due index, no scan"


def test_a_failure_on_one_record_leaves_it_due_for_the_next_run(api, svc, clock, aws_calls, gateway):
    serial = leave_an_unstored_certificate(api, svc, aws_calls)
    clock.at += GRACE + timedelta(seconds=1)
    aws_calls.clear()
    aws_calls.fail_call(2)  # the revocation write
    summary = run_reconciler(gateway)
    assert summary["failed"] == [keys.serial_hex(serial)]
    assert serial_record(svc, serial)["status"] == "presigned"
    assert run_reconciler(gateway)["revoked"] == [keys.serial_hex(serial)]
