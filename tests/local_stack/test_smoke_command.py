"""`python -m fincert_local smoke`, the deploy guide's smoke test (docs/deploy.md#smoke-test),
against the local stack: it passes on a healthy deployment, with and without the issuance
journey, and says so when the PKI base URL or the SMS code is wrong."""

from __future__ import annotations

import argparse

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fincert_local import smoke

from tests.support import log_safety
from tests.support.people import PIN, e164, new_identity
from tests.support.stack import RunningStack

NO_SMS_CHECKS = [
    "PKI: root CA certificate (self-signed CA)",
    "PKI: issuing CA certificate (signed by the root)",
    "PKI: chain.pem is the issuing CA then the root",
    "PKI: the root CRL at the issuing CA certificate's cRLDistributionPoints",
    "PKI: OCSP answers, signed, nonce echoed",
    "CSC: POST /csc/v1/info (public)",
    "authorizer: no credentials -> 401",
    "authorizer: an unknown API key -> 401",
    "authorizer: an unknown session token -> 401",
]


def _journey(stack: RunningStack, code=None) -> smoke.Journey:
    person = new_identity()
    return smoke.Journey(
        name=person["name"],
        phone=person["phone"],
        birth_date=person["birth_date"],
        # What the operator reads on their phone; here, the stack's SMS outbox.
        ask_code=code or (lambda: stack.sms_code(e164(person["phone"]))),
        ask_pin=lambda: PIN,
    )


def test_the_checks_that_need_no_sms_pass_against_the_local_stack(stack):
    lines: list[str] = []
    result = smoke.run_smoke(stack.url, api_key=stack.api_key, say=lines.append)
    assert result.failed == [], "\n".join(lines)
    assert [title for title, _ in result.results] == [*NO_SMS_CHECKS, "authorizer: the API key is accepted"]
    assert lines[-1] == f"smoke test: all {len(NO_SMS_CHECKS) + 1} checks good"


def test_the_issuance_journey_passes_with_the_code_the_phone_received(stack):
    lines: list[str] = []
    result = smoke.run_smoke(stack.url, api_key=stack.api_key, journey=_journey(stack), say=lines.append)
    assert result.failed == [], "\n".join(lines)
    assert [title for title, _ in result.results][-2:] == [
        "journey: enrollment, SMS code, PIN -> a certificate",
        "journey: the certificate, its OCSP answer and its CRL",
    ]
    assert any(line.startswith("ok    journey: the certificate") and "OCSP good" in line for line in lines)


def test_a_wrong_sms_code_fails_the_journey(stack):
    wrong = "000000"
    log_safety.remember_secret(wrong)
    result = smoke.run_smoke(
        stack.url, api_key=stack.api_key, journey=_journey(stack, code=lambda: wrong), say=lambda _: None
    )
    assert result.failed == [
        "journey: enrollment, SMS code, PIN -> a certificate",
        "journey: the certificate, its OCSP answer and its CRL",
    ]


def test_a_pki_base_url_that_does_not_serve_pki_fails_every_pki_check(stack):
    """What a deployment whose PkiBaseUrl points nowhere useful looks like."""
    lines: list[str] = []
    result = smoke.run_smoke(stack.url, pki_base_url=stack.url + "/nowhere", say=lines.append)
    assert result.failed == [title for title in NO_SMS_CHECKS if title.startswith("PKI:")]
    assert lines[-1] == "smoke test: 5 of 9 checks FAILED"


def test_the_command_exits_1_on_a_failure_and_2_without_a_deployment(stack, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    smoke.add_arguments(parser)
    healthy = parser.parse_args(["--base-url", stack.url])
    assert smoke.run(healthy) == 0
    broken = parser.parse_args(["--base-url", stack.url, "--pki-base-url", stack.url + "/nowhere"])
    assert smoke.run(broken) == 1
    nothing = parser.parse_args(["--state", str(tmp_path / "absent.json")])
    assert smoke.run(nothing) == 2
    assert "no --base-url and no running local stack" in capsys.readouterr().err


@pytest.mark.parametrize("missing", ["--api-key", "--phone"])
def test_the_journey_asks_for_what_it_needs(stack, missing, capsys):
    parser = argparse.ArgumentParser()
    smoke.add_arguments(parser)
    argv = ["--base-url", stack.url, "--journey", "--name", "x", "--birth-date", "19900101"]
    argv += {"--api-key": ["--phone", "01000000000"], "--phone": ["--api-key", stack.api_key]}[missing]
    assert smoke.run(parser.parse_args(argv)) == 2
    assert missing in capsys.readouterr().err


def test_a_signature_that_does_not_verify_is_a_finding_not_a_traceback():
    key = ec.generate_private_key(ec.SECP256R1())
    signature = key.sign(b"what the responder signed", ec.ECDSA(hashes.SHA256()))
    smoke._verify(key.public_key(), signature, b"what the responder signed", hashes.SHA256())
    with pytest.raises(smoke.CheckFailed, match="does not verify"):
        smoke._verify(key.public_key(), signature, b"something else", hashes.SHA256())
