"""End to end: issuance over HTTP against the local stack, the way a bank would enroll its
customers (certificates that verify against the served root; one active certificate per person
however many confirms race)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fincert.adapters.dynamodb import keys

from tests.support.customers import issue
from tests.support.people import PIN, new_enrollment
from tests.support.table import Table, is_credential, is_enrollment, of_account
from tests.support.verifiers import openssl_verify, pem_blocks

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("algorithm", ["RSA_2048", "EC_P256"])
def test_issuance_over_http_verifies_against_the_served_root(stack, tmp_path, algorithm):
    body, _ = new_enrollment(key_algorithm=algorithm)
    issued = issue(stack, body)
    root = x509.load_der_x509_certificate(stack.get("/pki/root-ca.crt").content)
    root_pem = root.public_bytes(serialization.Encoding.PEM).decode()
    result = openssl_verify(tmp_path, issued["certificate_pem"], pem_blocks(issued["chain_pem"])[0], root_pem)
    assert result.returncode == 0, result.stdout + result.stderr
    leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert any(d.access_location.value.startswith(stack.url + "/pki/") for d in aia), (
        "AIA points at this stack"
    )


def test_concurrent_issuances_for_one_person_leave_exactly_one_active_certificate(stack):
    body, phone = new_enrollment()
    enrollments = []
    for _ in range(8):
        started = stack.post("/v1/enrollments", body)
        assert started.status_code == 201
        enrollments.append((started.json()["enrollment_id"], stack.sms_code(phone)))

    barrier = threading.Barrier(len(enrollments))
    outcomes: list[tuple[int, str]] = []

    def confirm(enrollment_id: str, code: str) -> None:
        barrier.wait()
        response = stack.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN})
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

    items = Table.of_stack(stack).items()
    enrollment_ids = {e for e, _ in enrollments}
    mine = [i for i in items if is_enrollment(i) and keys.enrollment_id_of(i["pk"]) in enrollment_ids]
    accounts = {i["confirmed_account_id"] for i in mine if i.get("confirmed_account_id")}
    assert len(accounts) == 1, "one person, one account"
    account_id = accounts.pop()
    active = [i for i in items if of_account(i, account_id) and is_credential(i) and i["status"] == "active"]
    assert len(active) == 1, f"exactly one active certificate, found {len(active)}"
