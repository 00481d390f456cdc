"""The customer driver, written once: enroll and issue, connect by SMS, register at an institution,
authorize and sign, as a bank's page or a CSC client would. Two transports carry it: `InProcess`
(the conftest `Api`, the gateway in process against moto) and `OverHttp` (the running local
stack). Each flow asserts what it needs to go on and returns what the bank would hold afterwards;
calls that tests judge return the transport's own response (a gateway `Response` in process, a
`requests.Response` over HTTP)."""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from fincert.adapters.dynamodb import keys

from tests.support import log_safety
from tests.support.in_process import Api
from tests.support.people import CUSTOMER, ENROLLMENT, PIN, WRONG_PIN, e164, new_identity
from tests.support.stack import RunningStack
from tests.support.table import Table

SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"


def digest_b64(text: str) -> str:
    """The SHA-256 digest of a text, base64, as a CSC client sends a hash to sign."""
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


class Transport(Protocol):
    def request(self, method: str, path: str, json_body: Any = None, *, api_key: str | None = None, **kw): ...

    def status(self, response) -> int: ...

    def text(self, response) -> str: ...

    def sms_code(self, phone_e164: str) -> str: ...

    def new_identity(self) -> dict[str, str]: ...

    def table(self) -> Table: ...


@dataclass
class InProcess:
    """Through the conftest `Api` (its API key is the bank's; api_key="" sends none)."""

    api: Api

    def request(self, method: str, path: str, json_body: Any = None, *, api_key: str | None = None, **kw):
        return self.api.request(method, path, json_body, api_key=api_key, **kw)

    def status(self, response) -> int:
        return response.status

    def text(self, response) -> str:
        return response.body

    def sms_code(self, phone_e164: str) -> str:
        return self.api.last_sms_code(phone_e164)

    def new_identity(self) -> dict[str, str]:
        return CUSTOMER  # each test has a table of its own

    def table(self) -> Table:
        return Table.in_process()


@dataclass
class OverHttp:
    """Over HTTP to the running local stack (the bootstrap bank's API key unless told)."""

    stack: RunningStack

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        api_key: str | None = None,
        http: requests.Session | None = None,
        **kw,
    ) -> requests.Response:
        """`http` is a connection already open (see race() in the concurrency tests)."""
        key = self.stack.api_key if api_key is None else api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        send = http.request if http is not None else requests.request
        return send(method, self.stack.url + path, json=json_body, headers=headers, timeout=60, **kw)

    def status(self, response: requests.Response) -> int:
        return response.status_code

    def text(self, response: requests.Response) -> str:
        return response.text

    def sms_code(self, phone_e164: str) -> str:
        return self.stack.sms_code(phone_e164)

    def new_identity(self) -> dict[str, str]:
        return new_identity()  # the stack is shared by the whole session

    def table(self) -> Table:
        return Table.of_stack(self.stack)


def transport_of(target: Transport | Api | RunningStack) -> Transport:
    if isinstance(target, Api):
        return InProcess(target)
    if isinstance(target, RunningStack):
        return OverHttp(target)
    return target


def _expect(transport: Transport, response, status: int) -> Any:
    assert transport.status(response) == status, transport.text(response)
    return response.json() if status != 204 else None


# --- a bank's flows without a customer session --------------------------------------------
def enroll(target: Transport | Api | RunningStack, body: dict | None = None, **overrides) -> str:
    """Starts an enrollment (ENROLLMENT, CUSTOMER's, unless another body is given)."""
    transport = transport_of(target)
    response = transport.request("POST", "/v1/enrollments", (body or ENROLLMENT) | overrides)
    return _expect(transport, response, 201)["enrollment_id"]


def issue(
    target: Transport | Api | RunningStack, body: dict | None = None, pin: str = PIN, **overrides
) -> dict:
    """Enrolls and confirms with the SMS code the phone received: the issued certificate."""
    transport = transport_of(target)
    request = (body or ENROLLMENT) | overrides
    enrollment_id = enroll(transport, request)
    code = transport.sms_code(e164(request["phone"]))
    confirmed = transport.request(
        "POST", f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": pin}
    )
    return _expect(transport, confirmed, 201)


# --- a customer ---------------------------------------------------------------------------
@dataclass
class Customer:
    """A customer as their bank sees them: who they are and, once connected, a session token.
    `transport` may be given as the conftest `Api` or a `RunningStack`; without an identity, a
    person of their own (CUSTOMER in process, a new one on the shared stack)."""

    transport: Transport
    identity: dict[str, str] | None = None
    pin: str = PIN
    credential_id: str = ""
    token: str = ""
    issued: dict = field(default_factory=dict)
    # Sent with every enrollment besides the identity (over HTTP: auto_renew False).
    enrollment: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.transport = transport_of(self.transport)
        if self.identity is None:
            self.identity = self.transport.new_identity()
        if isinstance(self.transport, OverHttp):
            self.enrollment = {"auto_renew": False} | self.enrollment
            log_safety.remember_secret(self.pin, WRONG_PIN)

    @property
    def stack(self) -> RunningStack:
        return self.transport.stack

    @property
    def phone(self) -> str:
        return e164(self.identity["phone"])

    def issue(self, key_algorithm: str = "RSA_2048", **extra) -> dict:
        body = self.identity | {"terms_accepted": True} | self.enrollment | {"key_algorithm": key_algorithm}
        started = self.transport.request("POST", "/v1/enrollments", body | extra)
        enrollment_id = _expect(self.transport, started, 201)["enrollment_id"]
        code = self.transport.sms_code(self.phone)
        confirmed = self.transport.request(
            "POST", f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": self.pin}
        )
        self.issued = _expect(self.transport, confirmed, 201)
        self.credential_id = self.issued["credential_id"]
        return self.issued

    def start_connection(self, api_key: str | None = None) -> str:
        """Asks for a connection through the institution holding api_key (the bank by default)."""
        response = self.transport.request("POST", "/v1/connections", self.identity, api_key=api_key)
        return _expect(self.transport, response, 201)["verification_id"]

    def connect(self, api_key: str | None = None) -> dict:
        """A session through the institution holding api_key (the bank by default)."""
        verification_id = self.start_connection(api_key)
        code = self.transport.sms_code(self.phone)
        response = self.transport.request(
            "POST", f"/v1/connections/{verification_id}/confirm", {"sms_code": code}, api_key=api_key
        )
        session = _expect(self.transport, response, 201)
        self.token = session["session_token"]
        log_safety.remember_secret(self.token)
        return session

    def call(self, method: str, path: str, json_body=None, **kw):
        """A customer-scoped call with the session token (as the bank's page would make it)."""
        return self.transport.request(method, path, json_body, api_key=self.token, **kw)

    def register_here(self, pin: str | None = None):
        return self.call("POST", "/v1/registrations", {"pin": pin or self.pin})

    def authorize(
        self, num_signatures: int = 1, hashes: list[str] | None = None, pin: str | None = None, **extra
    ):
        body = {"credentialID": self.credential_id, "numSignatures": num_signatures, "PIN": pin or self.pin}
        if hashes is not None:
            body["hash"] = hashes
        kw = {"http": extra.pop("http")} if "http" in extra else {}
        response = self.call("POST", "/csc/v1/credentials/authorize", body | extra, **kw)
        if self.transport.status(response) == 200:
            log_safety.remember_secret(response.json()["SAD"])  # the suite checks no log line has it
        return response

    def sad(self, num_signatures: int = 1, **extra) -> str:
        response = self.authorize(num_signatures, **extra)
        return _expect(self.transport, response, 200)["SAD"]

    def sign_hash(self, sad: str, hashes: list[str], sign_algo: str = SHA256_WITH_RSA, **extra):
        body = {"credentialID": self.credential_id, "SAD": sad, "hash": hashes, "signAlgo": sign_algo}
        kw = {"http": extra.pop("http")} if "http" in extra else {}
        return self.call("POST", "/csc/v1/signatures/signHash", body | extra, **kw)

    def sign_content(self, content: str, signature_format: str, sign_type: str = "transfer"):
        """POST /v1/signatures for one text content in one format (see signature_of)."""
        return self.sign_contents([{"text": content}], [signature_format], sign_type)

    def sign_contents(
        self, contents: list[dict], formats: list[str], sign_type: str = "transfer", pin: str | None = None
    ):
        body = {"contents": contents, "sign_type": sign_type, "formats": formats, "pin": pin or self.pin}
        return self.call("POST", "/v1/signatures", body)

    @property
    def account_id(self) -> str:
        # The session token names its account: fcs.<institution id>.<account id>.<session id>.<secret>.
        return self.token.split(".")[2]

    def account_item(self) -> dict:
        """The ACCOUNT item as stored (what no API shows: the PIN slots)."""
        return self.transport.table().get(keys.account(self.account_id)) or {}


def connected(
    target: Transport | Api | RunningStack,
    identity: dict[str, str] | None = None,
    key_algorithm: str = "RSA_2048",
) -> Customer:
    """A customer with a certificate and a session."""
    customer = Customer(target, identity)
    customer.issue(key_algorithm)
    customer.connect()
    return customer


def history_events(customer: Customer) -> Counter[str]:
    """How many history entries of each event the customer's history holds (one page)."""
    response = customer.call("GET", "/v1/history?limit=100")
    body = _expect(customer.transport, response, 200)
    assert body["next_cursor"] is None, "one page holds this test's history"
    return Counter(entry["event"] for entry in body["entries"])


def signature_of(answer: dict, index: int = 0, signature_format: str | None = None) -> str:
    """The base64 signature a POST /v1/signatures answer holds for content `index`, in
    `signature_format` (the only one asked, by default)."""
    signatures = answer["contents"][index]["signatures"]
    if signature_format is None:
        (only,) = signatures
        return only["signature"]
    return next(s["signature"] for s in signatures if s["format"] == signature_format)


def outcome(response: requests.Response) -> tuple[int, str]:
    """(status, error code) for both error shapes: CSC's {"error": code} and ours {"error": {"code"}}."""
    if response.status_code < 400:
        return response.status_code, ""
    error = response.json().get("error")
    return response.status_code, error.get("code", "") if isinstance(error, dict) else error
