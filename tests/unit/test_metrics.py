"""The metrics port and its EMF adapter: what a count writes to stdout (the EMF line CloudWatch
reads), what it refuses to write, and the domain's counting of SMS, job messages and KMS
throttles with a fake. (The API flows' metrics: tests/integration/test_metrics_emitted.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from fincert.adapters.kms import KmsKeyManagement
from fincert.adapters.metrics import EmfMetrics
from fincert.domain.job_records import DueEntry
from fincert.domain.jobs import work
from fincert.domain.metrics import CATALOGUE, NO_METRICS, MeteredSms
from fincert.errors import InvalidRequest, ServiceUnavailable

from tests.fakes.metrics import FakeMetrics
from tests.fakes.sms import FakeSms
from tests.support.emf import emf_lines, metric_totals

ROOT = Path(__file__).resolve().parents[2]


def test_a_count_is_one_emf_line_with_its_unit_and_dimensions(capsys):
    EmfMetrics("FinCertTest").count("Signatures", 3, Kind="raw")
    lines = emf_lines(capsys.readouterr().out)
    assert len(lines) == 1
    (directive,) = lines[0]["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "FinCertTest"
    assert directive["Metrics"] == [{"Name": "Signatures", "Unit": "Count"}]
    assert directive["Dimensions"] == [["service", "Kind"]]
    assert metric_totals(lines, "FinCertTest") == {("Signatures", (("Kind", "raw"),)): 3}


@pytest.mark.parametrize(
    ("name", "dimensions"),
    [
        ("NoSuchMetric", {}),
        ("Signatures", {}),  # a dimension missing
        ("Signatures", {"Kind": "raw", "Institution": "demo-bank"}),  # one the catalogue lacks
        ("Signatures", {"Kind": "+821012345678"}),  # a value outside the closed set
    ],
)
def test_anything_outside_the_catalogue_is_not_written_and_does_not_fail_the_request(
    capsys, name, dimensions
):
    EmfMetrics("FinCertTest").count(name, **dimensions)  # must not raise
    out = capsys.readouterr().out
    assert emf_lines(out) == []
    assert "+8210" not in out


def test_the_null_metrics_refuses_what_the_adapter_would_not_write():
    """Services built by hand count through NO_METRICS: a misnamed metric still fails a test."""
    with pytest.raises(ValueError, match="Kind"):
        NO_METRICS.count("Signatures", Kind="something_else")


def test_sms_sent_and_refused_numbers_are_counted():
    metrics, sms = FakeMetrics(), FakeSms()
    metered = MeteredSms(sms, metrics)
    metered.send_sms("+821012345678", "[fincert] code [123456]")
    sms.fail_next(InvalidRequest("SMS cannot be delivered to this number", code="phone_unreachable"))
    with pytest.raises(InvalidRequest):
        metered.send_sms("+821012345678", "[fincert] code [123456]")
    sms.fail_next()  # SNS down: a 503, neither sent nor refused
    with pytest.raises(ServiceUnavailable):
        metered.send_sms("+821012345678", "[fincert] code [123456]")
    assert metrics.totals() == {("SmsSent", ()): 1, ("SmsRefused", (("Reason", "unreachable"),)): 1}


class _Job:
    def tasks(self):
        return []

    def handlers(self):
        def renew(entry: DueEntry) -> str:
            if entry.due_sk.endswith("boom"):
                raise ServiceUnavailable("KMS is unavailable, retry later")
            return "renewed"

        return {"renew": renew}


def test_each_job_message_is_counted_done_or_failed_by_its_kind():
    metrics = FakeMetrics()
    entry = {"pk": "ACCT#a", "sk": "CRED#c", "due_pk": "renew#2026-12", "due_sk": "2026-12-01#acct#cred"}
    assert work(_Job(), None, None, {"kind": "renew", "entry": entry}, metrics=metrics) == "renewed"
    with pytest.raises(ServiceUnavailable):
        work(_Job(), None, None, {"kind": "renew", "entry": entry | {"due_sk": "x#boom"}}, metrics=metrics)
    with pytest.raises(ValueError):
        work(_Job(), None, None, {"kind": "surprise", "entry": entry}, metrics=metrics)
    assert metrics.totals() == {
        ("JobResults", (("Job", "renew"), ("Result", "done"))): 1,
        ("JobResults", (("Job", "renew"), ("Result", "failed"))): 1,
        ("JobResults", (("Job", "other"), ("Result", "failed"))): 1,
    }


class _ThrottledKms:
    def __init__(self, code: str):
        self.code = code

    def __getattr__(self, operation):
        def call(**_):
            raise ClientError({"Error": {"Code": self.code, "Message": "slow down"}}, operation)

        return call


def test_kms_throttles_are_counted_by_operation():
    metrics = FakeMetrics()
    kms = KmsKeyManagement(lambda: _ThrottledKms("ThrottlingException"), metrics)
    with pytest.raises(ServiceUnavailable):
        kms.sign("key", b"digest", "RSASSA_PKCS1_V1_5_SHA_256", is_digest=True)
    with pytest.raises(ServiceUnavailable):
        kms.decrypt("key", b"ciphertext", {"account": "acct_1"})
    # Another transient fault is a 503 too, but not a throttle.
    internal = KmsKeyManagement(lambda: _ThrottledKms("KMSInternalException"), metrics)
    with pytest.raises(ServiceUnavailable):
        internal.verify_mac("key", b"message", b"mac")
    assert metrics.totals() == {
        ("KmsThrottles", (("Operation", "Sign"),)): 1,
        ("KmsThrottles", (("Operation", "Decrypt"),)): 1,
    }


def test_every_metric_is_documented_with_its_unit_and_dimensions():
    """docs/observability.md has one table row per metric: name, unit, dimensions (values)."""
    text = (ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
    rows = {
        match.group(1): match.group(0)
        for match in re.finditer(r"^\| `(\w+)` \|.*$", text, flags=re.MULTILINE)
    }
    assert set(rows) >= set(CATALOGUE)
    for name, spec in CATALOGUE.items():
        assert f"| {spec.unit} |" in rows[name], name
        for key, values in spec.dimensions.items():
            assert f"`{key}`" in rows[name], (name, key)
            for value in values:
                assert value in rows[name], (name, key, value)


def test_an_emf_line_is_plain_json_on_one_line(capsys):
    EmfMetrics("FinCertTest").count("PinLocks")
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out)["PinLocks"] == [1.0]
