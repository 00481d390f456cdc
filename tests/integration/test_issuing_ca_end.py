"""Near the issuing CA's end, a new certificate would outlive it (3 years against what is left of
the CA's 10) and stop validating early (RFC 5280 6.1.3): every path that mints refuses before it
texts, calls KMS or writes anything, with a stable code, and the renewal job records the refusal
for the operator instead of failing its batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fincert.clock import FixedClock
from fincert.domain.metrics import CERTIFICATES_ISSUED, ISSUANCE_REFUSED
from fincert.settings import get_settings
from fincert.wiring import Services, services, use_services
from fincert_local.gateway import recorded_sms

from tests.fakes.metrics import FakeMetrics
from tests.support.customers import enroll, issue
from tests.support.in_process import REGION
from tests.support.jobs import run
from tests.support.people import ENROLLMENT, PHONE, PIN
from tests.support.table import account_of, active, credentials, table_items


@pytest.fixture
def metered(api, aws) -> tuple[FixedClock, FakeMetrics]:
    """A frozen clock and a metrics fake, for services whose CA is already bootstrapped."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    metrics = FakeMetrics()
    use_services(Services(get_settings(), clients=services().clients, clock=clock, metrics=metrics))
    return clock, metrics


def last_issuable_moment() -> datetime:
    """The latest notBefore whose 3-year certificate (ending one second before the anniversary)
    still ends within the issuing CA's certificate."""
    ca_end = services().certificate_authority().issuing_certificate.not_valid_after_utc
    return ca_end.replace(year=ca_end.year - 3)


def refused(response) -> None:
    assert response.status == 503, response.body
    assert response.json()["error"]["code"] == "issuing_ca_expiring"
    assert int(response.header("Retry-After")) >= 60


def test_an_enrollment_that_would_outlive_the_issuing_ca_is_refused_before_any_sms(api, metered, aws_calls):
    clock, metrics = metered
    # A confirm may come up to the enrollment's 5 minutes later: the start judges that moment.
    clock.at = last_issuable_moment() - timedelta(minutes=5)
    assert api.post("/v1/enrollments", ENROLLMENT | {"phone": "010-5555-0101"}).status == 201

    clock.at += timedelta(seconds=2)
    before = table_items()
    sms_before = recorded_sms(PHONE, REGION)
    aws_calls.clear()
    refused(api.post("/v1/enrollments", ENROLLMENT))
    assert [c for c in aws_calls.calls if c != "dynamodb.GetItem"] == [], "no KMS call, no write, no SMS"
    assert table_items() == before
    assert recorded_sms(PHONE, REGION) == sms_before
    assert metrics.totals()[ISSUANCE_REFUSED, (("Channel", "enrollment"),)] == 1


def test_a_confirm_that_would_outlive_the_issuing_ca_is_refused_before_any_kms_call_or_write(
    api, metered, aws_calls
):
    clock, metrics = metered
    # The start's own check makes a confirm past the limit rare (the enrollment ends first); the
    # confirm judges its own moment anyway, before it claims the enrollment.
    clock.at = last_issuable_moment() - timedelta(minutes=5)
    enrollment_id = enroll(api)
    body = {"sms_code": api.last_sms_code(PHONE), "pin": PIN}

    clock.at = last_issuable_moment() + timedelta(seconds=2)
    before = table_items()
    aws_calls.clear()
    refused(api.post(f"/v1/enrollments/{enrollment_id}/confirm", body))
    assert [c for c in aws_calls.calls if c != "dynamodb.GetItem"] == [], "no KMS call, no write"
    assert table_items() == before, "the enrollment is not claimed, no attempt used"
    assert metrics.totals()[ISSUANCE_REFUSED, (("Channel", "enrollment"),)] == 1
    assert (
        metrics.totals()[CERTIFICATES_ISSUED, (("Channel", "enrollment"), ("KeyAlgorithm", "RSA_2048"))] == 0
    )

    # At the limit the same confirm issues: the limit is the CA's own notAfter.
    clock.at = last_issuable_moment() - timedelta(seconds=1)
    issued = api.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
    assert issued.status == 201, issued.body
    ca_end = services().certificate_authority().issuing_certificate.not_valid_after_utc
    assert datetime.fromisoformat(issued.json()["not_after"]) <= ca_end


def test_a_reissue_that_would_outlive_the_issuing_ca_keeps_the_current_certificate(api, metered):
    clock, _ = metered
    clock.at = last_issuable_moment() - timedelta(days=400)
    first = issue(api)
    account_id = account_of(first["credential_id"])

    clock.at = last_issuable_moment() + timedelta(days=1)
    refused(api.post("/v1/enrollments", ENROLLMENT))
    assert active(account_id) == [first["credential_id"]]
    assert credentials(account_id)[first["credential_id"]]["status"] == "active"


def test_the_renewal_job_records_a_refusal_and_keeps_the_certificate_due(api, metered, gateway):
    clock, metrics = metered
    clock.at = last_issuable_moment() - timedelta(days=400)
    issued = issue(api)  # auto_renew
    account_id = account_of(issued["credential_id"])

    # In its renewal window (30 days before its end), a renewal would outlive the CA.
    clock.at = last_issuable_moment() - timedelta(days=400) + timedelta(days=1096 - 20)
    sms_before = recorded_sms(PHONE, REGION)
    result = run(gateway, "renewal")
    assert result["planned"]["by_kind"] == {"renew": 1}
    assert result["failed"] == [], "a refusal is an outcome, not a message to redeliver"
    assert active(account_id) == [issued["credential_id"]] and len(credentials(account_id)) == 1
    assert not [i for i in table_items() if i.get("due_pk") == "presigned"], "nothing was signed"
    assert recorded_sms(PHONE, REGION) == sms_before, "no renewal notice: nothing was renewed"
    assert metrics.totals()[ISSUANCE_REFUSED, (("Channel", "renewal"),)] >= 1
    stored = credentials(account_id)[issued["credential_id"]]
    assert stored["due_pk"].startswith("renew#"), "still due: renewed once the CA is rolled over"
