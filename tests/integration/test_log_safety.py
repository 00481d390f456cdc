"""No PIN, SMS code, key, API key, token, name, phone or birth date in any log line of the
whole suite (this test runs last and reads what every other test logged)."""

from __future__ import annotations

import logging
import uuid

import pytest

from tests.support import log_safety
from tests.support.customers import enroll
from tests.support.people import CUSTOMER, PHONE, PIN, WRONG_PIN

PERSONAL = {
    CUSTOMER["name"],
    CUSTOMER["phone"],
    CUSTOMER["birth_date"],
    PHONE,
    PHONE.removeprefix("+82"),
    "01012345678",
    PIN,
    WRONG_PIN,
}


def test_the_leak_detector_sees_a_leak():
    assert log_safety.leaks(['{"msg": "pin 135790 accepted"}'], {"135790"})
    assert log_safety.leaks(['{"k": "-----BEGIN PRIVATE KEY-----"}'], set())
    assert log_safety.leaks(['{"auth": "Bearer fck_demo-bank_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'], set())
    assert not log_safety.leaks(['{"time": "2026-11-25T01:35:79.135790"}'], {"135790"})


def test_the_capture_sees_our_logger():
    marker = f"cred_probe_{uuid.uuid4().hex}"
    logging.getLogger("fincert").info("probe", extra={"credential_id": marker})
    assert any(marker in line for line in log_safety.CAPTURED)


@pytest.mark.runs_last
def test_no_secret_or_personal_data_in_any_log_line(api):
    # Exercise the paths that log (refusals, a wrong code, success) even when run alone.
    enrollment_id = enroll(api)
    code = api.last_sms_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": wrong, "pin": PIN})
    api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": "111111"})
    assert api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN}).status == 201

    lines = log_safety.all_lines()
    assert any('"fincert"' in line for line in lines), "the capture saw the service's logs"
    found = log_safety.leaks(lines, log_safety.SECRETS | PERSONAL)
    assert not found, "secrets in logs:\n" + "\n".join(found[:20])
