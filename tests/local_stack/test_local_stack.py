"""The local stack itself, as the README starts it: its commands (demo, sandbox, invoke), the gateway
enforcing the template's authorizer, and what it serves beside the API (the OpenAPI document).
The service over HTTP is tested in tests/e2e."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests
from fincert_local.openapi import build_openapi

from tests.support import log_safety
from tests.support.people import new_enrollment
from tests.support.stack import REPO

pytestmark = pytest.mark.e2e


def test_the_documented_demo_issues_a_certificate_that_openssl_verifies(stack, tmp_path):
    demo = subprocess.run(
        [
            sys.executable,
            "-m",
            "fincert_local",
            "demo",
            "--state",
            str(stack.state_file),
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "certificate.pem: OK" in demo.stdout


def test_the_sandbox_command_prints_settings_a_csc_client_can_use(stack, tmp_path):
    seeded = subprocess.run(
        [sys.executable, "-m", "fincert_local", "sandbox", "--state", str(stack.state_file)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    settings = json.loads(seeded.stdout)
    log_safety.remember_secret(settings["session_token"])
    assert settings["service_url"] == stack.url
    listed = requests.post(
        f"{settings['csc_base_url']}/credentials/list",
        json={},
        headers={"Authorization": f"Bearer {settings['session_token']}"},
        timeout=30,
    )
    assert listed.json() == {"credentialIDs": [settings["credential_id"]]}
    authorized = requests.post(
        f"{settings['csc_base_url']}/credentials/authorize",
        json={"credentialID": settings["credential_id"], "numSignatures": 1, "PIN": settings["pin"]},
        headers={"Authorization": f"Bearer {settings['session_token']}"},
        timeout=30,
    )
    assert authorized.status_code == 200, authorized.text
    # The time-stamping authority, with the URL and headers as printed: openssl's own query, and
    # openssl's verdict on the token against the CA chain and the token's TSA certificate.
    data = b"a PDF's signature value"
    (tmp_path / "data.bin").write_bytes(data)
    query = subprocess.run(
        ["openssl", "ts", "-query", "-data", "data.bin", "-sha256", "-cert", "-out", "request.tsq"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    assert query.returncode == 0
    stamped = requests.post(
        settings["tsa_url"],
        data=(tmp_path / "request.tsq").read_bytes(),
        headers=settings["tsa_headers"],
        timeout=30,
    )
    assert stamped.status_code == 200, stamped.text
    assert stamped.headers["Content-Type"] == "application/timestamp-reply"
    (tmp_path / "reply.tsr").write_bytes(stamped.content)
    (tmp_path / "chain.pem").write_bytes(requests.get(settings["ca_chain_url"], timeout=30).content)
    verified = subprocess.run(
        ["openssl", "ts", "-verify", "-queryfile", "request.tsq", "-in", "reply.tsr", "-CAfile", "chain.pem"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0 and "Verification: OK" in verified.stdout, verified.stderr


def test_the_gateway_enforces_the_authorizer_from_the_template(stack):
    body, _ = new_enrollment()
    assert stack.post("/v1/enrollments", body, api_key="").status_code == 401
    assert stack.post("/v1/enrollments", body, api_key="fck_demo-bank_" + "x" * 43).status_code == 401
    assert stack.get("/v1/no-such-route").status_code == 403  # API Gateway's answer to unknown routes
    assert stack.get("/pki/chain.pem").status_code == 200  # public: no authorizer


def test_openapi_document_is_served_and_generated_from_the_code(stack):
    served = stack.get("/_local/openapi.json")
    assert served.status_code == 200
    assert served.json() == build_openapi()
    assert "/v1/enrollments/{enrollment_id}/confirm" in served.json()["paths"]


def test_invoke_command_runs_one_function_with_one_event_file(stack):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fincert_local",
            "invoke",
            "PkiFunction",
            "tests/events/pki_chain.json",
            "--state",
            str(stack.state_file),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The result alone: the function's own output (logs, EMF metrics) goes to stderr.
    assert json.loads(result.stdout)["statusCode"] == 200
