"""End to end: the README's local stack, used over HTTP the way a bank would."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
from collections import Counter

import boto3
import pytest
import requests
from boto3.dynamodb.types import TypeDeserializer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fincert_local.openapi import build_openapi

from tests import log_safety
from tests.e2e.conftest import REPO, RunningStack
from tests.verifiers import openssl_verify

pytestmark = pytest.mark.e2e


def customer(**overrides) -> tuple[dict, str]:
    phone = f"010{secrets.randbelow(10**8):08d}"
    body = {
        "name": "김민준",
        "phone": phone,
        "birth_date": "19851224",
        "terms_accepted": True,
        "auto_renew": False,
    } | overrides
    return body, "+82" + body["phone"][1:]


def issue(stack: RunningStack, body: dict, phone: str, pin: str = "135790") -> dict:
    started = stack.post("/v1/enrollments", body)
    assert started.status_code == 201, started.text
    code = stack.sms_code(phone)
    confirmed = stack.post(
        f"/v1/enrollments/{started.json()['enrollment_id']}/confirm", {"sms_code": code, "pin": pin}
    )
    assert confirmed.status_code == 201, confirmed.text
    return confirmed.json()


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


def test_the_sandbox_command_prints_settings_a_csc_client_can_use(stack):
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


@pytest.mark.parametrize("algorithm", ["RSA_2048", "EC_P256"])
def test_issuance_over_http_verifies_against_the_served_root(stack, tmp_path, algorithm):
    body, phone = customer(key_algorithm=algorithm)
    issued = issue(stack, body, phone)
    root = x509.load_der_x509_certificate(stack.get("/pki/root-ca.crt").content)
    root_pem = root.public_bytes(serialization.Encoding.PEM).decode()
    result = openssl_verify(tmp_path, issued["certificate_pem"], issued["chain_pem"][0], root_pem)
    assert result.returncode == 0, result.stdout + result.stderr
    leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert any(d.access_location.value.startswith(stack.url + "/pki/") for d in aia), (
        "AIA points at this stack"
    )


def test_the_gateway_enforces_the_authorizer_from_the_template(stack):
    body, _ = customer()
    assert stack.post("/v1/enrollments", body, api_key="").status_code == 401
    assert stack.post("/v1/enrollments", body, api_key="fck_demo-bank_" + "x" * 43).status_code == 401
    assert stack.get("/v1/no-such-route").status_code == 403  # API Gateway's answer to unknown routes
    assert stack.get("/pki/chain.pem").status_code == 200  # public: no authorizer


def test_concurrent_issuances_for_one_person_leave_exactly_one_active_certificate(stack):
    body, phone = customer()
    enrollments = []
    for _ in range(8):
        started = stack.post("/v1/enrollments", body)
        assert started.status_code == 201
        enrollments.append((started.json()["enrollment_id"], stack.sms_code(phone)))

    barrier = threading.Barrier(len(enrollments))
    outcomes: list[tuple[int, str]] = []

    def confirm(enrollment_id: str, code: str) -> None:
        barrier.wait()
        response = stack.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": "135790"})
        error = response.json().get("error", {}).get("code", "") if response.status_code != 201 else ""
        outcomes.append((response.status_code, error))

    threads = [threading.Thread(target=confirm, args=e) for e in enrollments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert all(status == 201 or (status, code) == (409, "issuance_conflict") for status, code in outcomes), (
        outcomes
    )
    assert Counter(status for status, _ in outcomes)[201] >= 1

    table = boto3.client("dynamodb", endpoint_url=stack.moto_url, region_name=stack.region)
    deserialize = TypeDeserializer().deserialize
    items = [
        {k: deserialize(v) for k, v in item.items()}
        for page in table.get_paginator("scan").paginate(TableName=_table_name(stack))
        for item in page["Items"]
    ]
    credential_ids = {e for e, _ in enrollments}
    mine = [i for i in items if i["sk"] == "ENROLLMENT" and i["pk"].removeprefix("ENR#") in credential_ids]
    accounts = {i["confirmed_account_id"] for i in mine if i.get("confirmed_account_id")}
    assert len(accounts) == 1, "one person, one account"
    account_pk = "ACCT#" + accounts.pop()
    active = [
        i for i in items if i["pk"] == account_pk and i["sk"].startswith("CRED#") and i["status"] == "active"
    ]
    assert len(active) == 1, f"exactly one active certificate, found {len(active)}"


def _table_name(stack: RunningStack) -> str:
    import json

    return json.loads(stack.state_file.read_text())["environment"]["TABLE_NAME"]


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
    assert '"statusCode": 200' in result.stdout
