"""The operational metrics the domain emits, as data: each metric's name, unit and the closed set
of values each of its dimensions may take.

The domain counts through the `Metrics` port (fincert.ports) and never imports Powertools; the
EMF adapter (fincert.adapters.metrics) writes what the catalogue allows and nothing else. Every
dimension value comes from a fixed set named here, so no identifier, name, phone number or other
personal data can become a dimension (and the CloudWatch cost stays bounded: one time series per
combination). docs/observability.md documents each one; tests/unit/test_metrics.py keeps the two
in step."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from fincert.errors import InvalidRequest, RateLimited
from fincert.ports import Metrics, SmsSender

# Names as CloudWatch shows them.
CERTIFICATES_ISSUED = "CertificatesIssued"
ISSUANCE_REFUSED = "IssuanceRefused"
SIGNATURES = "Signatures"
PIN_FAILURES = "PinFailures"
PIN_LOCKS = "PinLocks"
SMS_SENT = "SmsSent"
SMS_REFUSED = "SmsRefused"
STATUS_CHANGES = "StatusChanges"
JOB_RESULTS = "JobResults"
KMS_THROTTLES = "KmsThrottles"
AUDIT_WRITE_FAILURES = "AuditWriteFailures"

# Every metric also carries service=fincert (Powertools' usual dimension), set by the adapter.
SERVICE_DIMENSION = "service"
SERVICE = "fincert"

# The daily jobs' message kinds (fincert.domain.renewal, fincert.domain.purge, jobs.PLAN) and
# the reconciler; anything else is reported as "other".
JOB_KINDS = ("plan", "renew", "expiry_notice", "warn", "purge", "finish_purge", "reconcile", "other")
KMS_OPERATIONS = ("Sign", "GetPublicKey", "Encrypt", "Decrypt", "GenerateMac", "VerifyMac")


@dataclass(frozen=True)
class MetricSpec:
    unit: str
    meaning: str
    dimensions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


CATALOGUE: dict[str, MetricSpec] = {
    CERTIFICATES_ISSUED: MetricSpec(
        "Count",
        "certificates issued: a confirmed enrollment (the bank's API or the window) or an auto-renewal",
        {"KeyAlgorithm": ("RSA_2048", "EC_P256"), "Channel": ("enrollment", "renewal")},
    ),
    ISSUANCE_REFUSED: MetricSpec(
        "Count",
        "issuances and renewals refused because the certificate would end after the issuing CA's "
        "certificate (issuing_ca_expiring): the CA must be rolled over",
        {"Channel": ("enrollment", "renewal")},
    ),
    SIGNATURES: MetricSpec(
        "Count",
        "signatures released to a client, one per content and format (FinCert) or per hash (CSC)",
        {"Kind": ("cms_attached", "cms_detached", "raw", "csc_sign_hash")},
    ),
    PIN_FAILURES: MetricSpec("Count", "wrong PINs counted against an account (each one an attempt used)"),
    PIN_LOCKS: MetricSpec("Count", "PINs locked by the wrong PIN that used the last attempt"),
    SMS_SENT: MetricSpec("Count", "texts SNS accepted (codes and notices alike)"),
    SMS_REFUSED: MetricSpec(
        "Count",
        "texts not sent: over the hourly limits per phone or per institution, or SNS refused the number",
        {"Reason": ("rate_limited", "unreachable")},
    ),
    STATUS_CHANGES: MetricSpec(
        "Count",
        "certificate status changes committed (효력정지, 효력회복, 폐기)",
        {"Action": ("suspend", "restore", "revoke")},
    ),
    JOB_RESULTS: MetricSpec(
        "Count",
        "daily-job messages handled (done) or raised for redelivery (failed); the reconciler's "
        "certificates revoked (done) and left for its next run (failed)",
        {"Job": JOB_KINDS, "Result": ("done", "failed")},
    ),
    AUDIT_WRITE_FAILURES: MetricSpec(
        "Count",
        "authentication failures (a wrong SMS code) answered 400 whose audit entry could not be written",
    ),
    KMS_THROTTLES: MetricSpec(
        "Count",
        "KMS calls refused for throttling (answered 503 + Retry-After)",
        {"Operation": KMS_OPERATIONS},
    ),
}


def check(name: str, dimensions: Mapping[str, str]) -> MetricSpec:
    """The metric's spec, or ValueError if the name, a dimension or a value is not in the
    catalogue: a metric is either exactly what is documented or not written at all."""
    spec = CATALOGUE.get(name)
    if spec is None:
        raise ValueError(f"unknown metric {name!r}")
    if set(dimensions) != set(spec.dimensions):
        raise ValueError(f"{name}: dimensions must be {sorted(spec.dimensions)}")
    for key, value in dimensions.items():
        if value not in spec.dimensions[key]:
            # Only the key: an unexpected value is exactly what must not be written anywhere.
            raise ValueError(f"{name}: a value of {key} outside the catalogue")
    return spec


class NoMetrics:
    """Counts nothing: the default of every service, so code that builds one by hand (unit
    tests, tools) need not care; wiring gives the real one."""

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        check(name, dimensions)


NO_METRICS = NoMetrics()


@contextmanager
def count_sms_refused(metrics: Metrics) -> Iterator[None]:
    """Around the write that counts a text against the hourly SMS limits: a refusal is counted."""
    try:
        yield
    except RateLimited:
        metrics.count(SMS_REFUSED, Reason="rate_limited")
        raise


class MeteredSms:
    """The SMS port, counting what SNS accepted and the numbers it refused (phone_unreachable):
    every text the service sends goes through it, whichever flow sends it."""

    def __init__(self, sms: SmsSender, metrics: Metrics):
        self._sms = sms
        self._metrics = metrics

    def send_sms(self, phone_e164: str, text: str) -> None:
        try:
            self._sms.send_sms(phone_e164, text)
        except InvalidRequest as e:
            if e.code == "phone_unreachable":
                self._metrics.count(SMS_REFUSED, Reason="unreachable")
            raise
        self._metrics.count(SMS_SENT)
