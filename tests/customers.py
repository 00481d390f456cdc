"""Test helpers for customer flows through the API: issue a certificate, connect a session (SMS),
register an institution. Each returns what a bank would hold afterwards."""

from __future__ import annotations

from dataclasses import dataclass

from tests import log_safety
from tests.conftest import Api

PIN = "135790"
CUSTOMER = {
    "name": "홍길동",
    "phone": "010-1234-5678",
    "birth_date": "19900101",
}
PHONE = "+821012345678"


def other_customer(n: int) -> dict[str, str]:
    """A different person per n (another phone number and name)."""
    return {"name": f"김철수{chr(0xAC00 + n)}", "phone": f"010-5555-{n:04d}", "birth_date": "19850505"}


def e164(phone: str) -> str:
    digits = phone.replace("-", "")
    return digits if digits.startswith("+") else "+82" + digits[1:]


@dataclass
class Customer:
    """A customer as their bank sees them: who they are and, once connected, a session token."""

    api: Api
    identity: dict[str, str]
    pin: str = PIN
    credential_id: str = ""
    token: str = ""

    @property
    def phone(self) -> str:
        return e164(self.identity["phone"])

    def issue(self, key_algorithm: str = "RSA_2048", **extra) -> dict:
        body = self.identity | {"terms_accepted": True, "key_algorithm": key_algorithm} | extra
        started = self.api.post("/v1/enrollments", body)
        assert started.status == 201, started.body
        code = self.api.last_sms_code(self.phone)
        confirm = self.api.post(
            f"/v1/enrollments/{started.json()['enrollment_id']}/confirm", {"sms_code": code, "pin": self.pin}
        )
        assert confirm.status == 201, confirm.body
        issued = confirm.json()
        self.credential_id = issued["credential_id"]
        return issued

    def start_connection(self, api: Api | None = None) -> str:
        response = (api or self.api).post("/v1/connections", self.identity)
        assert response.status == 201, response.body
        return response.json()["verification_id"]

    def connect(self, api: Api | None = None) -> dict:
        api = api or self.api
        verification_id = self.start_connection(api)
        code = api.last_sms_code(self.phone)
        response = api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": code})
        assert response.status == 201, response.body
        session = response.json()
        self.token = session["session_token"]
        log_safety.remember_secret(self.token)
        return session

    def call(self, method: str, path: str, json_body=None, **kw):
        """A customer-scoped call with the session token (as the bank's page would make it)."""
        return self.api.request(method, path, json_body, api_key=self.token, **kw)

    def register_here(self, pin: str | None = None):
        return self.call("POST", "/v1/registrations", {"pin": pin or self.pin})

    def authorize(
        self, num_signatures: int = 1, hashes: list[str] | None = None, pin: str | None = None, **extra
    ):
        body = {
            "credentialID": self.credential_id,
            "numSignatures": num_signatures,
            "PIN": pin or self.pin,
        } | extra
        if hashes is not None:
            body["hash"] = hashes
        response = self.call("POST", "/csc/v1/credentials/authorize", body)
        if response.status == 200:
            log_safety.remember_secret(response.json()["SAD"])  # the suite checks no log line has it
        return response

    def sign_hash(self, sad: str, hashes: list[str], sign_algo: str = "1.2.840.113549.1.1.11", **extra):
        body = {"credentialID": self.credential_id, "SAD": sad, "hash": hashes, "signAlgo": sign_algo} | extra
        return self.call("POST", "/csc/v1/signatures/signHash", body)


def connected_customer(
    api: Api, identity: dict[str, str] | None = None, key_algorithm: str = "RSA_2048"
) -> Customer:
    customer = Customer(api, identity or CUSTOMER)
    customer.issue(key_algorithm)
    customer.connect()
    return customer
