"""No PIN, SMS code, key, API key, token, name, phone or birth date in any log line of the
whole suite. The runs_last test exercises the paths that log and judges every line its process
captured before it: in a serial run that is every other test's, under pytest-xdist its worker's
share. Either way tests/conftest.py then judges every line of the run, of every worker, once all
have finished (log lines of teardowns too), and fails the run if one leaks."""

from __future__ import annotations

import logging
import uuid

import pytest

from tests.support import log_safety
from tests.support.customers import enroll
from tests.support.people import PERSONAL_DATA, PHONE, PIN


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
    found = log_safety.leaks(lines, log_safety.SECRETS | PERSONAL_DATA)
    assert not found, "secrets in logs:\n" + "\n".join(found[:20])


def test_the_run_judges_every_process_together():
    """A secret one process remembered is found in another process's lines (xdist workers)."""
    quiet = {"lines": ['{"message": "all good"}'], "secrets": ["fcs.a.b.worker-one-token"]}
    noisy = {"lines": ['{"message": "token fcs.a.b.worker-one-token"}'], "secrets": []}
    assert not log_safety.judge([quiet])
    assert log_safety.judge([quiet, noisy])
    assert log_safety.judge([{"lines": ['{"pin": "135790"}'], "secrets": []}], PERSONAL_DATA)
