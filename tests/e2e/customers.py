"""Customers of the running local stack, over HTTP: issue a certificate through the bank's API key,
connect (name + phone + birth date + SMS code) and act with the session token, as a bank's page
or a CSC client would. The HTTP twin of tests/customers.py (which drives the in-process API)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

import boto3
import requests
from boto3.dynamodb.types import TypeDeserializer
from cryptography import x509

from tests import log_safety
from tests.e2e.conftest import RunningStack

PIN = "135790"
WRONG_PIN = "246813"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"


def new_identity() -> dict[str, str]:
    """A person of their own: the stack is shared by the whole session, and a phone number is
    what the SMS outbox and the rate limits are keyed by."""
    phone = f"010{secrets.randbelow(10**8):08d}"
    log_safety.remember_secret(phone, "+82" + phone[1:])
    return {"name": "박지훈", "phone": phone, "birth_date": "19880417"}


@dataclass
class HttpCustomer:
    stack: RunningStack
    identity: dict[str, str] = field(default_factory=new_identity)
    pin: str = PIN
    credential_id: str = ""
    token: str = ""
    issued: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        log_safety.remember_secret(self.pin, WRONG_PIN)

    @property
    def phone(self) -> str:
        return "+82" + self.identity["phone"][1:]

    def issue(self, key_algorithm: str = "RSA_2048") -> dict:
        body = self.identity | {"terms_accepted": True, "auto_renew": False, "key_algorithm": key_algorithm}
        started = self.stack.post("/v1/enrollments", body)
        assert started.status_code == 201, started.text
        confirmed = self.stack.post(
            f"/v1/enrollments/{started.json()['enrollment_id']}/confirm",
            {"sms_code": self.stack.sms_code(self.phone), "pin": self.pin},
        )
        assert confirmed.status_code == 201, confirmed.text
        self.issued = confirmed.json()
        self.credential_id = self.issued["credential_id"]
        return self.issued

    def connect(self, api_key: str | None = None) -> dict:
        """A session through the institution holding api_key (the bootstrap bank by default)."""
        started = self.stack.post("/v1/connections", self.identity, api_key=api_key)
        assert started.status_code == 201, started.text
        confirmed = self.stack.post(
            f"/v1/connections/{started.json()['verification_id']}/confirm",
            {"sms_code": self.stack.sms_code(self.phone)},
            api_key=api_key,
        )
        assert confirmed.status_code == 201, confirmed.text
        session = confirmed.json()
        self.token = session["session_token"]
        log_safety.remember_secret(self.token)
        return session

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def call(
        self, method: str, path: str, body: object = None, http: requests.Session | None = None
    ) -> requests.Response:
        """A call with the session token; `http` is a connection already open (see race())."""
        send = http.request if http is not None else requests.request
        return send(method, self.stack.url + path, json=body, headers=self.headers, timeout=60)

    def authorize(
        self, num_signatures: int = 1, pin: str | None = None, http: requests.Session | None = None, **extra
    ) -> requests.Response:
        body = {"credentialID": self.credential_id, "numSignatures": num_signatures, "PIN": pin or self.pin}
        return self.call("POST", "/csc/v1/credentials/authorize", body | extra, http)

    def sad(self, num_signatures: int = 1, **extra) -> str:
        response = self.authorize(num_signatures, **extra)
        assert response.status_code == 200, response.text
        sad = response.json()["SAD"]
        log_safety.remember_secret(sad)
        return sad

    def sign_hash(
        self,
        sad: str,
        hashes_b64: list[str],
        sign_algo: str = SHA256_WITH_RSA,
        http: requests.Session | None = None,
        **extra,
    ) -> requests.Response:
        body = {"credentialID": self.credential_id, "SAD": sad, "hash": hashes_b64, "signAlgo": sign_algo}
        return self.call("POST", "/csc/v1/signatures/signHash", body | extra, http)

    def sign_content(self, content: str, signature_format: str, sign_type: str = "transfer"):
        body = {"content": content, "sign_type": sign_type, "format": signature_format, "pin": self.pin}
        return self.call("POST", "/v1/signatures", body)

    @property
    def account_id(self) -> str:
        # The session token names its account: fcs.<account id>.<session id>.<secret>.
        return self.token.split(".")[1]

    def account_item(self) -> dict:
        """The ACCOUNT item as stored, read straight from moto (what no API shows: the PIN slots)."""
        return stored_item(self.stack, f"ACCT#{self.account_id}", "ACCOUNT")


def outcome(response: requests.Response) -> tuple[int, str]:
    """(status, error code) for both error shapes: CSC's {"error": code} and ours {"error": {"code"}}."""
    if response.status_code < 400:
        return response.status_code, ""
    error = response.json().get("error")
    return response.status_code, error.get("code", "") if isinstance(error, dict) else error


def connected(stack: RunningStack, key_algorithm: str = "RSA_2048") -> HttpCustomer:
    customer = HttpCustomer(stack)
    customer.issue(key_algorithm)
    customer.connect()
    return customer


def table_name(stack: RunningStack) -> str:
    return json.loads(stack.state_file.read_text())["environment"]["TABLE_NAME"]


def dynamodb(stack: RunningStack):
    """A DynamoDB client on the stack's moto server (the stack's own fake credentials)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=stack.moto_url,
        region_name=stack.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def stored_item(stack: RunningStack, pk: str, sk: str) -> dict:
    client = dynamodb(stack)
    item = client.get_item(
        TableName=table_name(stack), Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    )
    deserialize = TypeDeserializer().deserialize
    return {k: deserialize(v) for k, v in item.get("Item", {}).items()}


def served_root(stack: RunningStack) -> x509.Certificate:
    response = stack.get("/pki/root-ca.crt")
    assert response.status_code == 200
    return x509.load_der_x509_certificate(response.content)
