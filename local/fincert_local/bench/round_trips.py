"""AWS round trips per request on a warm container (docs/design.md; the budgets are in budgets.py).

botocore calls counted in process through the local gateway, after one full round of each
scenario warmed the container; the authorizer's calls and SMS are excluded. Adding a row: write a
scenario `(WarmContainer) -> {request name: [Call, ...]}`, add it to ROUND_TRIP_SCENARIOS and its
budget to budgets.ROUND_TRIP_BUDGETS.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fincert_local.bench.budgets import EXCLUDED_OPERATIONS, ROUND_TRIP_BUDGETS
from fincert_local.bench.context import BenchContext, fixture
from fincert_local.bench.recording import Call, botocore_recorder, recording
from fincert_local.gateway import Gateway, Response, recorded_sms


@dataclass
class WarmContainer:
    """One warm 'container': handlers imported once and kept, like Lambda reusing an environment."""

    gateway: Gateway
    ctx: BenchContext

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Call]]:
        with recording() as calls:
            yield calls

    def post(self, path: str, body: Any, token: str | None = None) -> Response:
        bearer = token or self.ctx.api_key
        headers = [("Content-Type", "application/json"), ("Authorization", f"Bearer {bearer}")]
        response = self.gateway.handle("POST", path, headers, json.dumps(body, ensure_ascii=False).encode())
        if response.status >= 400:
            raise RuntimeError(f"POST {path}: {response.status} {response.body[:500]!r}")
        return response

    def sms_code(self, phone: str) -> str:
        e164 = "+82" + phone[1:]
        texts = recorded_sms(e164, self.ctx.region)
        match = re.search(r"\[(\d{6})\]", texts[-1]) if texts else None
        if match is None:
            raise RuntimeError(f"no SMS code sent to {e164}")
        return match.group(1)


def new_person(ctx: BenchContext) -> dict:
    """A new customer's enrollment body (the fixture's person with a fresh phone number)."""
    return json.loads(fixture("enrollment_start.json")["body"]) | {"phone": ctx.fresh_phone()}


def issuance_scenario(container: WarmContainer) -> dict[str, list[Call]]:
    """Enrollment start + confirm for a new customer, after one full issuance warmed the container."""

    def issue() -> dict[str, list[Call]]:
        customer = new_person(container.ctx)
        with container.recording() as start:
            enrollment_id = container.post("/v1/enrollments", customer).json()["enrollment_id"]
        body = {"sms_code": container.sms_code(customer["phone"]), "pin": "135790"}
        with container.recording() as confirm:
            container.post(f"/v1/enrollments/{enrollment_id}/confirm", body)
        return {"enrollment start": start, "issuance confirm": confirm}

    issue()  # warm-up: imports, clients, the CA read once per container
    return issue()


def connected_customer(container: WarmContainer, key_algorithm: str = "RSA_2048") -> tuple[str, str, str]:
    """A new customer, issued a certificate (PIN 135790) and connected: (credential id, session
    token, account id)."""
    customer = new_person(container.ctx) | {"key_algorithm": key_algorithm}
    enrollment_id = container.post("/v1/enrollments", customer).json()["enrollment_id"]
    body = {"sms_code": container.sms_code(customer["phone"]), "pin": "135790"}
    credential_id = container.post(f"/v1/enrollments/{enrollment_id}/confirm", body).json()["credential_id"]
    identity = {k: customer[k] for k in ("name", "phone", "birth_date")}
    verification_id = container.post("/v1/connections", identity).json()["verification_id"]
    confirm = {"sms_code": container.sms_code(customer["phone"])}
    token = container.post(f"/v1/connections/{verification_id}/confirm", confirm).json()["session_token"]
    account_id = token.split(".")[2]  # fcs.<institution id>.<account id>.<session id>.<secret>
    return credential_id, token, account_id


def signing_scenario(container: WarmContainer) -> dict[str, list[Call]]:
    """A connected customer's CSC authorize (PIN -> SAD) and signHash, after one round warmed up."""
    credential_id, token, _ = connected_customer(container)
    digest = base64.b64encode(hashlib.sha256(b"bench").digest()).decode()

    def sign() -> dict[str, list[Call]]:
        authorize = {"credentialID": credential_id, "numSignatures": 1, "hash": [digest], "PIN": "135790"}
        with container.recording() as authorized:
            sad = container.post("/csc/v1/credentials/authorize", authorize, token).json()["SAD"]
        sign_hash = {
            "credentialID": credential_id,
            "SAD": sad,
            "hash": [digest],
            "signAlgo": "1.2.840.113549.1.1.11",
        }
        with container.recording() as signed:
            container.post("/csc/v1/signatures/signHash", sign_hash, token)
        return {"credentials/authorize": authorized, "signatures/signHash": signed}

    sign()  # warm-up
    return sign()


def content_signing_scenario(container: WarmContainer) -> dict[str, list[Call]]:
    """A connected customer's FinCert-style POST /v1/signatures: one content in one format, and
    ten contents (text, bytes, hashes) in two formats, after one round warmed up. One PIN entry
    either way: the round trips do not grow with the contents, only the CPU does."""
    _, token, _ = connected_customer(container)
    one = {
        "contents": [{"text": "bench"}],
        "sign_type": "transfer",
        "formats": ["cms_attached"],
        "pin": "135790",
    }
    contents = [
        {"text": "이체 확인 1,000원"},
        {"base64": base64.b64encode(b"%PDF-1.7 bench").decode(), "name": "bench.pdf"},
        *({"sha256": hashlib.sha256(f"document {n}".encode()).hexdigest()} for n in range(8)),
    ]
    ten = one | {"contents": contents, "formats": ["cms_detached", "raw"], "sign_type": "04"}

    def sign() -> dict[str, list[Call]]:
        with container.recording() as signed_one:
            container.post("/v1/signatures", one, token)
        with container.recording() as signed_ten:
            container.post("/v1/signatures", ten, token)
        return {"POST /v1/signatures": signed_one, "POST /v1/signatures, 10 contents": signed_ten}

    sign()  # warm-up
    return sign()


def ocsp_scenario(container: WarmContainer) -> dict[str, list[Call]]:
    """One OCSP query about a freshly issued certificate, after a first query warmed the
    container (the CA record, the responder record and its key's one KMS Decrypt)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    customer = new_person(container.ctx)
    enrollment_id = container.post("/v1/enrollments", customer).json()["enrollment_id"]
    body = {"sms_code": container.sms_code(customer["phone"]), "pin": "135790"}
    issued = container.post(f"/v1/enrollments/{enrollment_id}/confirm", body).json()
    leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    issuer = x509.load_pem_x509_certificates(issued["chain_pem"].encode())[0]  # issuing CA, then root
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf, issuer, hashes.SHA1())  # noqa: S303  # what openssl sends
        .build()
        .public_bytes(serialization.Encoding.DER)
    )

    def ask() -> None:
        response = container.gateway.handle(
            "POST", "/pki/ocsp", [("Content-Type", "application/ocsp-request")], request
        )
        if response.status != 200 or ocsp.load_der_ocsp_response(response.body).certificate_status is not (
            ocsp.OCSPCertStatus.GOOD
        ):
            raise RuntimeError(f"POST /pki/ocsp: {response.status} {response.body[:200]!r}")

    ask()
    with container.recording() as query:
        ask()
    return {"OCSP query": query}


ROUND_TRIP_SCENARIOS: list[Callable[[WarmContainer], dict[str, list[Call]]]] = [
    issuance_scenario,
    signing_scenario,
    content_signing_scenario,
    ocsp_scenario,
]


def measure_round_trips(container: WarmContainer, authorizer_id: str | None) -> list[dict]:
    rows = []
    with botocore_recorder():
        for scenario in ROUND_TRIP_SCENARIOS:
            for request, calls in scenario(container).items():
                counted = [
                    c.operation
                    for c in calls
                    if c.function_id != authorizer_id and c.operation not in EXCLUDED_OPERATIONS
                ]
                excluded = [
                    ("authorizer " if c.function_id == authorizer_id else "") + c.operation
                    for c in calls
                    if c.function_id == authorizer_id or c.operation in EXCLUDED_OPERATIONS
                ]
                budget = ROUND_TRIP_BUDGETS.get(request)
                rows.append(
                    {
                        "request": request,
                        "count": len(counted),
                        "budget": budget,
                        "over_budget": budget is not None and len(counted) > budget,
                        "operations": counted,
                        "excluded": excluded,
                    }
                )
    return rows
