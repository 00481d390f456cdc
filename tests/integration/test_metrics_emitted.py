"""The operator's metrics, as the functions write them: CloudWatch EMF lines on stdout, read back
from what the handlers printed while a customer is issued, connects, signs, locks their PIN and
suspends their certificate through the API (in process, against moto). No line may carry
anything that identifies a person, a certificate or a token (docs/observability.md)."""

from __future__ import annotations

import base64
import hashlib

from fincert.domain.metrics import CATALOGUE

from tests.support.customers import Customer, connected, digest_b64
from tests.support.emf import emf_lines, metric_totals
from tests.support.people import CUSTOMER, ENROLLMENT, PERSONAL_DATA, WRONG_PIN, other_customer

NAMESPACE = "FinCert"  # the settings' default; template.yaml sets the same


def _totals(capsys) -> tuple[dict, list[dict], str]:
    out = capsys.readouterr().out
    lines = emf_lines(out)
    return metric_totals(lines, NAMESPACE), lines, out


def _assert_nothing_personal(lines: list[dict], out: str, *secrets: str) -> None:
    for document in lines:
        directive = document["_aws"]["CloudWatchMetrics"][0]
        named = {m["Name"] for m in directive["Metrics"]} | {k for ds in directive["Dimensions"] for k in ds}
        # Nothing beyond the metric and its dimensions: no properties ride along.
        assert set(document) - {"_aws"} == named, document
    emf_text = "\n".join(line for line in out.splitlines() if '"CloudWatchMetrics"' in line)
    for secret in (*PERSONAL_DATA, *secrets):
        assert secret not in emf_text


def test_issuance_sms_signatures_and_a_status_change_are_counted(api, capsys):
    capsys.readouterr()
    customer = connected(api, key_algorithm="EC_P256")
    hashes = [digest_b64("first"), digest_b64("second")]
    sad = customer.sad(2, hashes=hashes)
    assert customer.sign_hash(sad, hashes, sign_algo="1.2.840.10045.4.3.2").status == 200
    signed = customer.sign_contents([{"text": "이체 1"}, {"text": "이체 2"}], ["cms_attached", "raw"])
    assert signed.status == 201, signed.body
    suspended = customer.call("POST", "/v1/certificate/status", {"action": "suspend", "pin": customer.pin})
    assert suspended.status == 200, suspended.body

    totals, lines, out = _totals(capsys)
    assert totals == {
        ("CertificatesIssued", (("Channel", "enrollment"), ("KeyAlgorithm", "EC_P256"))): 1,
        # The enrollment's code, the connection's code, the suspension notice.
        ("SmsSent", ()): 3,
        ("Signatures", (("Kind", "csc_sign_hash"),)): 2,
        ("Signatures", (("Kind", "cms_attached"),)): 2,
        ("Signatures", (("Kind", "raw"),)): 2,
        ("StatusChanges", (("Action", "suspend"),)): 1,
    }
    _assert_nothing_personal(
        lines,
        out,
        customer.token,
        customer.account_id,
        customer.credential_id,
        customer.issued["serial_number"],
        sad,
        hashlib.sha256(b"first").hexdigest(),
        base64.b64decode(hashes[0]).hex(),
    )


def test_wrong_pins_and_the_lock_are_counted(api, capsys):
    customer = connected(api)
    capsys.readouterr()
    for _ in range(5):
        customer.authorize(pin=WRONG_PIN)
    assert customer.authorize().status == 403  # locked: refused before any attempt is counted
    totals, lines, out = _totals(capsys)
    assert totals == {("PinFailures", ()): 5, ("PinLocks", ()): 1}
    _assert_nothing_personal(lines, out, customer.token, customer.account_id)


def test_texts_over_the_hourly_limit_are_counted_as_refused(api, svc, capsys):
    for _ in range(svc.settings.sms_per_phone_per_hour):
        assert api.post("/v1/enrollments", ENROLLMENT).status == 201
    assert api.post("/v1/enrollments", ENROLLMENT).status == 429
    other = Customer(api, other_customer(7))
    other.issue()
    totals, lines, out = _totals(capsys)
    assert totals[("SmsRefused", (("Reason", "rate_limited"),))] == 1
    assert totals[("SmsSent", ())] == svc.settings.sms_per_phone_per_hour + 1
    assert totals[("CertificatesIssued", (("Channel", "enrollment"), ("KeyAlgorithm", "RSA_2048")))] == 1
    _assert_nothing_personal(lines, out, *other_customer(7).values(), CUSTOMER["name"])


def test_every_metric_written_is_in_the_catalogue(api, capsys):
    connected(api)
    _, lines, _ = _totals(capsys)
    assert lines
    for document in lines:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                assert metric["Name"] in CATALOGUE
                assert metric["Unit"] == CATALOGUE[metric["Name"]].unit
