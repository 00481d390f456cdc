"""Which request each API function's cold start serves (issue 12: its main success path, not a
refusal or its cheapest route), how each run's fresh state is made, and what the floor redoes.

MAIN_PATHS is the one table: per route (or the authorizer), the documented success it must
answer, why it is the function's main path, and what its floor does beyond `import boto3` +
replaying the handler's AWS calls. The function measured is the one template.yaml routes the
request to, so a route moving to another function takes its row along.

Each run gets state of its own, made in the parent through the in-process gateway before the
child starts (outside the timed part): a new enrollment and its SMS code read from moto, a new
SAD, a new ticket ... The event the child serves is the one API Gateway would send, with the
authorizer's real context: CapturingGateway runs the gateway up to the function and keeps the
event instead of invoking it. After the handler child answered, `floor(handler result)` gives
the floor child its cryptographic work: the keys it loads come out of its own replayed
kms.Decrypt, the signatures the service gets from KMS out of its replayed kms.Sign; what only
the answer holds (the issued certificate) is read from the handler's answer.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fincert_local.bench.context import BenchContext
from fincert_local.bench.recording import AttributingGateway
from fincert_local.bench.round_trips import WarmContainer, connected_customer, new_person

PIN = "135790"
ORIGIN = "https://bank.example"  # the bench's institution registers it (suite.py)
CONTENT = "이체 확인: 100,000원 → 국민은행 123-456-7890 (fincert-cloud bench)"


class CapturingGateway(AttributingGateway):
    """The local gateway that, for one request, stops where it would invoke the function and keeps
    the event: the path parameters, the body as API Gateway encodes it and the real authorizer's
    context, without serving the request in this process."""

    _capturing: str | None = None
    _captured: dict | None = None

    def invoke(self, function_id: str, event: dict) -> Any:
        if function_id != self._capturing:
            return super().invoke(function_id, event)
        self._captured = json.loads(json.dumps(event))
        if event.get("type") == "REQUEST":  # the authorizer: deny, so nothing runs after it
            statement = {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": event["methodArn"]}
            return {
                "principalId": "bench",
                "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            }
        return {"statusCode": 204, "headers": {}, "body": ""}

    def capture(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes = b"",
        *,
        authorizer: bool = False,
    ) -> dict:
        matched = self.match(method, path)
        if matched is None or (authorizer and self.authorizer is None):
            raise RuntimeError(
                f"template.yaml has no {'authorizer for ' if authorizer else ''}{method} {path}"
            )
        self._capturing = (
            self.authorizer.function_id if authorizer and self.authorizer else matched[0].function_id
        )
        self._captured = None
        try:
            self.handle(method, path, headers, body)
        finally:
            self._capturing = None
        if self._captured is None:
            raise RuntimeError(f"{method} {path} was refused before it reached its function")
        return self._captured


@dataclass
class Bench:
    """What the preparations share: the warm in-process gateway on the bench's moto, the PKI's
    certificates (the floor's inputs), and state made once per target."""

    container: WarmContainer
    issuing_certificate: bytes
    responder_certificate: bytes
    tsa_certificate: bytes
    tsa_policy_oid: str
    _once: dict[str, Any] = field(default_factory=dict)

    @property
    def ctx(self) -> BenchContext:
        return self.container.ctx

    @property
    def gateway(self) -> CapturingGateway:
        if not isinstance(self.container.gateway, CapturingGateway):
            raise TypeError("the cold-start preparations need a CapturingGateway")
        return self.container.gateway

    def once(self, name: str, make: Callable[[], Any]) -> Any:
        """State every run of one target may share (read, never spent); new for the next target,
        so a 15-minute session never outlives it."""
        if name not in self._once:
            self._once[name] = make()
        return self._once[name]

    def next_target(self) -> None:
        self._once.clear()

    def post(self, path: str, body: Any, token: str | None = None) -> dict:
        return self.container.post(path, body, token).json()

    def capture_json(
        self, method: str, path: str, bearer: str | None, body: Any = None, *, authorizer: bool = False
    ) -> dict:
        headers = [("Content-Type", "application/json")] if body is not None else []
        if bearer is not None:
            headers.append(("Authorization", f"Bearer {bearer}"))
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        return self.gateway.capture(method, path, headers, raw, authorizer=authorizer)


# --- what a handler's answer and calls hold ---------------------------------------------------


def answer(handler: dict) -> bytes:
    """The body of the handler's proxy response, as bytes."""
    body = handler.get("body") or {}
    text = body.get("body") or ""
    return base64.b64decode(text) if body.get("isBase64Encoded") else text.encode()


def call_index(calls: list[dict], operation: str, purpose: str | None = None) -> int:
    """The position of the one call `operation` (with this encryption-context purpose) among the
    handler's calls, which the floor replays in the same order."""
    found = [
        i
        for i, call in enumerate(calls)
        if f"{call['service']}.{call['operation']}" == operation
        and (purpose is None or (call["params"].get("EncryptionContext") or {}).get("purpose") == purpose)
    ]
    if len(found) != 1:
        raise RuntimeError(
            f"expected one {operation} {purpose or ''} among the handler's calls, found {len(found)}"
        )
    return found[0]


def _der_of_pem(pem: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)


# --- each run's state -------------------------------------------------------------------------


@dataclass
class Prepared:
    event: dict  # what the handler child serves
    floor: Callable[[dict], dict]  # the handler child's result -> the floor child's crypto job
    check: Callable[[dict], str | None] = lambda handler: None  # beyond the status: why not a success


def _no_crypto(handler: dict) -> dict:
    return {"op": "none"}


def _issued(bench: Bench) -> tuple[dict, dict]:
    """A new customer with a certificate (PIN `PIN`): (the person, the confirm's answer)."""
    person = new_person(bench.ctx)
    enrollment_id = bench.post("/v1/enrollments", person)["enrollment_id"]
    body = {"sms_code": bench.container.sms_code(person["phone"]), "pin": PIN}
    return person, bench.post(f"/v1/enrollments/{enrollment_id}/confirm", body)


def _session(bench: Bench) -> tuple[str, str, str]:
    return bench.once("customer", lambda: connected_customer(bench.container))


def authorize_session(bench: Bench) -> Prepared:
    _, token, _ = _session(bench)
    event = bench.capture_json("POST", "/csc/v1/signatures/signHash", token, {}, authorizer=True)
    return Prepared(event, lambda handler: {"op": "sha256_secret", "secret": token})


def confirm_enrollment(bench: Bench) -> Prepared:
    person = new_person(bench.ctx)
    enrollment_id = bench.post("/v1/enrollments", person)["enrollment_id"]
    body = {"sms_code": bench.container.sms_code(person["phone"]), "pin": PIN}
    event = bench.capture_json("POST", f"/v1/enrollments/{enrollment_id}/confirm", bench.ctx.api_key, body)

    return Prepared(event, lambda handler: _issuance_floor(bench, handler, person))


def _issuance_floor(bench: Bench, handler: dict, person: dict) -> dict:
    return {
        "op": "issue_certificate",
        "key_algorithm": person.get("key_algorithm", "RSA_2048"),
        "certificate": _der_of_pem(json.loads(answer(handler))["certificate_pem"]),
        "issuer_certificate": bench.issuing_certificate,
        "signature_call": call_index(handler["calls"], "kms.Sign"),
    }


def confirm_connection(bench: Bench) -> Prepared:
    # A new customer per run: each connection texts a code, and a phone gets 5 an hour.
    person, _ = _issued(bench)
    identity = {k: person[k] for k in ("name", "phone", "birth_date")}
    verification_id = bench.post("/v1/connections", identity)["verification_id"]
    body = {"sms_code": bench.container.sms_code(person["phone"])}
    event = bench.capture_json("POST", f"/v1/connections/{verification_id}/confirm", bench.ctx.api_key, body)
    return Prepared(event, lambda handler: {"op": "sha256_secret"})


def register_device(bench: Bench) -> Prepared:
    # A new customer per run: at most 5 devices each.
    _, token, _ = connected_customer(bench.container)
    return _device_registration(bench, "/v1/devices", token)


def _device_registration(bench: Bench, path: str, token: str) -> Prepared:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    body = {"name": "bench browser", "public_key": base64.b64encode(der).decode()}
    event = bench.capture_json("POST", path, token, body)
    return Prepared(event, lambda handler: {"op": "device_key", "public_key": der})


def get_certificate(bench: Bench) -> Prepared:
    _, token, _ = _session(bench)
    return Prepared(bench.capture_json("GET", "/v1/certificate", token), _no_crypto)


def sign_hash(bench: Bench) -> Prepared:
    credential_id, token, _ = _session(bench)
    digest = secrets.token_bytes(32)  # a new hash, and so a new SAD bound to it, per run
    hashes = [base64.b64encode(digest).decode()]
    authorize = {"credentialID": credential_id, "numSignatures": 1, "hash": hashes, "PIN": PIN}
    sad = bench.post("/csc/v1/credentials/authorize", authorize, token)["SAD"]
    body = {"credentialID": credential_id, "SAD": sad, "hash": hashes, "signAlgo": "1.2.840.113549.1.1.11"}
    event = bench.capture_json("POST", "/csc/v1/signatures/signHash", token, body)

    def floor(handler: dict) -> dict:
        key_call = call_index(handler["calls"], "kms.Decrypt", "subscriber-key")
        return {"op": "sign_digest", "digest": digest, "key_call": key_call}

    return Prepared(event, floor)


def sign_contents(bench: Bench) -> Prepared:
    _, token, _ = _session(bench)
    content = f"{CONTENT} #{secrets.token_hex(4)}"
    body = {"contents": [{"text": content}], "sign_type": "transfer", "formats": ["cms_attached"], "pin": PIN}
    event = bench.capture_json("POST", "/v1/signatures", token, body)
    return Prepared(event, lambda handler: _cms_floor(bench, handler, content))


def _cms_floor(bench: Bench, handler: dict, content: str) -> dict:
    calls = handler["calls"]
    return {
        "op": "cms_with_evidence",
        "content": content.encode(),
        "certificate": _der_of_pem(json.loads(answer(handler))["certificate_pem"]),
        "issuer_certificate": bench.issuing_certificate,
        "key_call": call_index(calls, "kms.Decrypt", "subscriber-key"),
        "responder_certificate": bench.responder_certificate,
        "responder_key_call": call_index(calls, "kms.Decrypt", "ocsp-responder"),
        "tsa_certificate": bench.tsa_certificate,
        "policy_oid": bench.tsa_policy_oid,
        "serial_number": secrets.randbits(63),
        "signature_call": call_index(calls, "kms.Sign"),
    }


def _timestamp_granted(handler: dict) -> str | None:
    from asn1crypto import tsp

    status = tsp.TimeStampResp.load(answer(handler))["status"]["status"].native
    return None if status == "granted" else f"time-stamp {status}"


def timestamp(bench: Bench) -> Prepared:
    from asn1crypto import tsp

    imprint, nonce = secrets.token_bytes(32), secrets.randbits(63)
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": imprint},
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()
    headers = [
        ("Content-Type", "application/timestamp-query"),
        ("Authorization", f"Bearer {bench.ctx.api_key}"),
    ]
    event = bench.gateway.capture("POST", "/v1/timestamps", headers, request)

    def floor(handler: dict) -> dict:
        return {
            "op": "timestamp",
            "imprint": imprint,
            "nonce": nonce,
            "tsa_certificate": bench.tsa_certificate,
            "policy_oid": bench.tsa_policy_oid,
            "serial_number": secrets.randbits(63),
            "signature_call": call_index(handler["calls"], "kms.Sign"),
        }

    return Prepared(event, floor, _timestamp_granted)


def _window(bench: Bench, purpose: str, **ticket: Any) -> str:
    """A new window of this purpose, redeemed: its window credential."""
    minted = bench.post("/v1/ui-tickets", {"purpose": purpose, "origin": ORIGIN, **ticket})
    return str(
        bench.post("/v1/window/redeem", {"ticket": minted["ticket"], "opener_origin": ORIGIN})["window_token"]
    )


def _connected_window(bench: Bench, purpose: str, **ticket: Any) -> str:
    """A new customer with a certificate, connected (SMS) in a new window of this purpose."""
    person, _ = _issued(bench)
    token = _window(bench, purpose, **ticket)
    identity = {k: person[k] for k in ("name", "phone", "birth_date")}
    verification_id = bench.post("/v1/window/connections", identity, token)["verification_id"]
    confirm = {"sms_code": bench.container.sms_code(person["phone"])}
    bench.post(f"/v1/window/connections/{verification_id}/confirm", confirm, token)
    return token


def issue_in_window(bench: Bench) -> Prepared:
    person = new_person(bench.ctx)
    enrollment_id = bench.post("/v1/enrollments", person)["enrollment_id"]
    token = _window(bench, "issue", enrollment_id=enrollment_id)
    body = {
        "sms_code": bench.container.sms_code(person["phone"]),
        "pin": PIN,
        "terms_accepted": True,
        "auto_renew": False,
    }
    event = bench.capture_json("POST", "/v1/window/issuance", token, body)
    return Prepared(event, lambda handler: _issuance_floor(bench, handler, person))


def sign_in_window(bench: Bench) -> Prepared:
    content = f"{CONTENT} #{secrets.token_hex(4)}"
    sign = {"sign_type": "transfer", "contents": [{"text": content}]}
    token = _connected_window(bench, "sign", sign=sign)
    event = bench.capture_json("POST", "/v1/window/signatures", token, {"pin": PIN})
    return Prepared(event, lambda handler: _cms_floor(bench, handler, content))


def remember_browser(bench: Bench) -> Prepared:
    return _device_registration(bench, "/v1/window/devices", _connected_window(bench, "manage"))


def redeem_ticket(bench: Bench) -> Prepared:
    sign = {"sign_type": "transfer", "contents": [{"text": CONTENT}]}
    ticket = bench.post("/v1/ui-tickets", {"purpose": "sign", "origin": ORIGIN, "sign": sign})["ticket"]
    event = bench.capture_json("POST", "/v1/window/redeem", None, {"ticket": ticket, "opener_origin": ORIGIN})
    return Prepared(event, lambda handler: {"op": "sha256_secret", "secret": ticket})


def _ocsp_good(handler: dict) -> str | None:
    from cryptography.x509 import ocsp

    response = ocsp.load_der_ocsp_response(answer(handler))
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return f"OCSP {response.response_status.name}"
    return None if response.certificate_status is ocsp.OCSPCertStatus.GOOD else "OCSP: not good"


def ocsp_query(bench: Bench) -> Prepared:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    _, issued = bench.once("issued", lambda: _issued(bench))
    leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    issuer = x509.load_der_x509_certificate(bench.issuing_certificate)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf, issuer, hashes.SHA1())  # noqa: S303  # what openssl sends
        .add_extension(x509.OCSPNonce(secrets.token_bytes(16)), critical=False)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    event = bench.gateway.capture(
        "POST", "/pki/ocsp", [("Content-Type", "application/ocsp-request")], request
    )

    def floor(handler: dict) -> dict:
        return {
            "op": "ocsp_response",
            "request": request,
            "responder_certificate": bench.responder_certificate,
            "responder_key_call": call_index(handler["calls"], "kms.Decrypt", "ocsp-responder"),
        }

    return Prepared(event, floor, _ocsp_good)


def preflight(bench: Bench) -> Prepared:
    headers = [
        ("Origin", ORIGIN),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "authorization, content-type"),
    ]
    return Prepared(bench.gateway.capture("OPTIONS", "/csc/v1/signatures/signHash", headers), _no_crypto)


def sdk_file(bench: Bench) -> Prepared:
    return Prepared(bench.gateway.capture("GET", "/sdk/v1/fincert.js", []), _no_crypto)


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MainPath:
    request: str  # "METHOD /resource" as template.yaml routes it, or "authorizer"
    success: int | str  # the documented success status ("Allow" for the authorizer)
    why: str
    floor: str  # what the floor does beyond import boto3 + the handler's AWS calls replayed
    prepare: Callable[[Bench], Prepared]


_NO_CRYPTO = "nothing more: no cryptography is inherent to it"
_CMS = (
    "cryptography's primitives, x509, ocsp; load the subscriber key (from its replayed kms.Decrypt) "
    "without RSA re-validation; build the OCSP response for the signer's certificate signed with "
    "the responder key (from its replayed kms.Decrypt); the time-stamp token over the signature "
    "value (TSTInfo + its SignedData as DER, the replayed kms.Sign's signature); the CMS SignedData "
    "(signed attributes signed with the subscriber key, certificates, the OCSP response as "
    "RFC 5940 revocation info, the token as unsigned attribute) as DER"
)
MAIN_PATHS: tuple[MainPath, ...] = (
    MainPath(
        "authorizer",
        "Allow",
        "a customer session token on signHash: what every CSC call carries",
        "hashlib: SHA-256 of the token (the table holds only the hash)",
        authorize_session,
    ),
    MainPath(
        "POST /v1/enrollments/{enrollment_id}/confirm",
        201,
        "issuance: the enrollment's purpose (a new enrollment and its SMS code, from moto, per run)",
        "cryptography's x509 and rsa/ec: generate the key pair as the service does (RSA-2048, e=65537), "
        "PKCS#8 DER it, build the certificate (same subject, serial, validity, extensions) and sign it "
        "with the replayed kms.Sign's signature",
        confirm_enrollment,
    ),
    MainPath(
        "POST /v1/connections/{verification_id}/confirm",
        201,
        "a connection is confirmed whenever a customer connects a browser: it returns the session",
        "hashlib + secrets: a new session secret and its SHA-256",
        confirm_connection,
    ),
    MainPath(
        "POST /v1/devices",
        201,
        "device registration over PIN change: every browser or phone a customer remembers (up to 5) "
        "registers once, while a PIN changes rarely (no forced rotation); a new customer per run",
        "cryptography's ec + serialization: load the P-256 SubjectPublicKeyInfo, check the curve, SHA-256 it",
        register_device,
    ),
    MainPath(
        "GET /v1/certificate",
        200,
        "the certificate of a real, connected customer",
        _NO_CRYPTO + " (the answer is the stored record's fields)",
        get_certificate,
    ),
    MainPath(
        "POST /csc/v1/signatures/signHash",
        200,
        "a signature, with a fresh SAD (authorized in the parent) per run",
        "cryptography's primitives: load the key (from its replayed kms.Decrypt) without RSA "
        "re-validation, sign the digest (RSASSA-PKCS1-v1_5, prehashed SHA-256)",
        sign_hash,
    ),
    MainPath(
        "POST /v1/signatures",
        201,
        "one content, cms_attached, with its evidence (time-stamp token + OCSP response)",
        _CMS,
        sign_contents,
    ),
    MainPath(
        "POST /v1/timestamps",
        200,
        "a granted RFC 3161 token (certReq, a nonce)",
        "cryptography's x509: the TSTInfo and its SignedData as DER, with the replayed kms.Sign's signature",
        timestamp,
    ),
    MainPath(
        "POST /v1/window/redeem",
        201,
        "every window flow (issue, connect, sign, manage) opens with it, so it is the request a cold "
        "window container serves first; a new sign ticket per run",
        "hashlib: SHA-256 of the ticket (it is looked up by its hash)",
        redeem_ticket,
    ),
    MainPath(
        "POST /v1/window/issuance",
        201,
        "an issue window's one step: the certificate issued (a new enrollment, window and SMS code per run)",
        "as the issuance confirm's: generate the key pair, build and sign the certificate",
        issue_in_window,
    ),
    MainPath(
        "POST /v1/window/signatures",
        201,
        "a sign window's one step: the ticket's content signed, cms_attached, with its evidence "
        "(a new customer connected in a new window per run)",
        _CMS,
        sign_in_window,
    ),
    MainPath(
        "POST /v1/window/devices",
        201,
        "remember this browser: what the window offers at the end of every flow; a manage window's "
        "customer (new per run: at most 5 devices each)",
        "cryptography's ec + serialization: load the P-256 SubjectPublicKeyInfo, check the curve, SHA-256 it",
        remember_browser,
    ),
    MainPath(
        "OPTIONS /csc/v1/signatures/signHash",
        204,
        "the preflight a customer's browser sends before a CSC call, from a registered origin",
        _NO_CRYPTO,
        preflight,
    ),
    MainPath("GET /sdk/v1/{file}", 200, "fincert.js, which every bank page loads", _NO_CRYPTO, sdk_file),
    MainPath(
        "POST /pki/ocsp",
        200,
        "what relying parties call (a nonce per run), about a valid certificate: good",
        "cryptography's x509.ocsp: parse the request, build the response by the request's hashes "
        "(nonce echoed), sign it with the responder key (from its replayed kms.Decrypt)",
        ocsp_query,
    ),
)
