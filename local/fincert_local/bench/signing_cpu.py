"""Warm service CPU per signature against the cryptography's own cost (docs/design.md: <= 5x the
floor of the same run; the budget is in budgets.py).

Service CPU of one request: the process CPU time (`time.process_time`) spent inside the Lambda
handlers the request runs (the authorizer's and the function's; not the local gateway's event
building, which is API Gateway's job), minus the process CPU time spent inside botocore calls
made from them (`BaseClient._make_api_call`: the client's own work and moto's, which runs in this
process's server threads, are AWS's time, not ours). What is left is Powertools' routing,
validation and logging, JSON, our layer and the cryptography.

The floor, measured in the same run with the same keys, each part the cheapest obvious way:
- CSC rows: load the key's PKCS#8 DER without RSA re-validation and sign a SHA-256 digest;
- FinCert rows: load it the same way and build the CMS SignedData the route returns (attached,
  over the same content, with the same certificates, cryptography's PKCS7SignatureBuilder), plus
  the evidence every FinCert CMS carries (issue 14): the OCSP answer for the certificate
  (cryptography's OCSPResponseBuilder, signed with the delegated responder's key, its DER loaded
  without re-validation) and the signature time-stamp token (RFC 3161: the TSTInfo and its
  SignedData, assembled from a template made once). The token's signature is the TSA's KMS Sign,
  a botocore call the service side does not count either, so the floor leaves it out too (its
  place is filled with as many zero bytes). Splicing the evidence into the CMS (byte copies, tens
  of microseconds) is left out of the floor, which only makes it lower.
The design's budget names RSA-2048; the EC P-256 rows are reported beside it, ratio without a
budget or verdict.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import hashlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fincert_local.bench.budgets import SIGNING_CPU_BUDGET
from fincert_local.bench.round_trips import WarmContainer, connected_customer

DEFAULT_SIGNING_REQUESTS = 25
WARMUP_REQUESTS = 3
PIN = "135790"
CONTENT = "이체 확인: 100,000원 → 국민은행 123-456-7890 (fincert-cloud bench)"
_CSC_SIGN_ALGO = {"RSA_2048": "1.2.840.113549.1.1.11", "EC_P256": "1.2.840.10045.4.3.2"}


@dataclass
class _Meter:
    """CPU seconds of one measured request: in handlers, and in botocore calls made from them."""

    handlers: float = 0.0
    botocore: float = 0.0
    function: str | None = None  # the handler running now
    # Per function: CPU in its handler, of which CPU in its botocore calls.
    handler_by_function: dict[str, float] = field(default_factory=dict)
    botocore_by_function: dict[str, float] = field(default_factory=dict)

    def service_by_function(self) -> dict[str, float]:
        return {
            fn: spent - self.botocore_by_function.get(fn, 0.0)
            for fn, spent in self.handler_by_function.items()
        }


_METER: contextvars.ContextVar[_Meter | None] = contextvars.ContextVar("bench_cpu_meter", default=None)


@contextlib.contextmanager
def _botocore_cpu() -> Iterator[None]:
    """Count the process CPU spent inside botocore calls made while a meter is open (in this
    context only: moto's server threads never see the meter)."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: dict) -> Any:
        meter = _METER.get()
        if meter is None:
            return original(self, operation_name, api_params)
        started = time.process_time()
        try:
            return original(self, operation_name, api_params)
        finally:
            spent = time.process_time() - started
            meter.botocore += spent
            if meter.function is not None:
                by_function = meter.botocore_by_function
                by_function[meter.function] = by_function.get(meter.function, 0.0) + spent

    BaseClient._make_api_call = _make_api_call
    try:
        yield
    finally:
        BaseClient._make_api_call = original


@contextlib.contextmanager
def _handler_cpu(container: WarmContainer) -> Iterator[None]:
    """Count the process CPU spent inside the handlers the gateway invokes while a meter is open."""
    gateway = container.gateway
    original = gateway.handler

    def handler(function_id: str, module: Any = None) -> Callable[[dict, Any], Any]:
        inner = original(function_id, module)

        def timed(event: dict, context: Any) -> Any:
            meter = _METER.get()
            if meter is None:
                return inner(event, context)
            meter.function = function_id
            started = time.process_time()
            try:
                return inner(event, context)
            finally:
                spent = time.process_time() - started
                meter.function = None
                meter.handlers += spent
                by_function = meter.handler_by_function
                by_function[function_id] = by_function.get(function_id, 0.0) + spent

        return timed

    gateway.handler = handler  # type: ignore[method-assign]
    try:
        yield
    finally:
        del gateway.handler  # back to the class's method


def _measured(request: Callable[[], None]) -> _Meter:
    meter = _Meter()
    token = _METER.set(meter)
    try:
        request()
    finally:
        _METER.reset(token)
    return meter


@dataclass
class _Customer:
    key_algorithm: str
    credential_id: str
    token: str
    key_der: bytes
    certificate_der: bytes


@dataclass
class _Evidence:
    """What the floor needs to build a FinCert signature's evidence: the delegated OCSP
    responder's key (PKCS#8 DER, decrypted once here as the signing function decrypts it) and
    certificate, and the TSA's certificate and policy."""

    responder_key_der: bytes
    responder_certificate_der: bytes
    tsa_certificate_der: bytes
    tsa_policy_oid: str


def _customer(container: WarmContainer, key_algorithm: str) -> _Customer:
    from fincert.domain.minting import subscriber_key_context
    from fincert.wiring import services

    credential_id, token, account_id = connected_customer(container, key_algorithm)
    svc = services()
    credential = svc.store.get_credential(account_id, credential_id)
    if credential is None:
        raise RuntimeError(f"credential {credential_id} not found")
    # The same plaintext the signing code gets from KMS, decrypted once here for the floor.
    key_der = svc.kms.decrypt(
        svc.settings.key_wrap_key_id,
        credential.wrapped_private_key,
        subscriber_key_context(account_id, credential_id),
    )
    return _Customer(key_algorithm, credential_id, token, key_der, credential.certificate_der)


def _evidence() -> _Evidence:
    from cryptography.hazmat.primitives.serialization import Encoding
    from fincert.domain.revocation_status import responder_key_context
    from fincert.wiring import services

    svc = services()
    responder = svc.store.get_ocsp_responder()
    if responder is None:
        raise RuntimeError("the OCSP responder is set up by the stack's bootstrap")
    key_der = svc.kms.decrypt(
        svc.settings.key_wrap_key_id,
        responder.wrapped_private_key,
        responder_key_context(responder.serial_number),
    )
    tsa_certificate_der = svc.timestamps.certificate().public_bytes(Encoding.DER)
    return _Evidence(key_der, responder.certificate_der, tsa_certificate_der, svc.settings.tsa_policy_oid)


def _csc_signature(container: WarmContainer, customer: _Customer, digest_b64: str) -> Callable[[], None]:
    def sign() -> None:
        authorize = {
            "credentialID": customer.credential_id,
            "numSignatures": 1,
            "hash": [digest_b64],
            "PIN": PIN,
        }
        sad = container.post("/csc/v1/credentials/authorize", authorize, customer.token).json()["SAD"]
        sign_hash = {
            "credentialID": customer.credential_id,
            "SAD": sad,
            "hash": [digest_b64],
            "signAlgo": _CSC_SIGN_ALGO[customer.key_algorithm],
        }
        container.post("/csc/v1/signatures/signHash", sign_hash, customer.token)

    return sign


def _content_signature(container: WarmContainer, customer: _Customer) -> Callable[[], None]:
    def sign() -> None:
        body = {
            "contents": [{"text": CONTENT}],
            "sign_type": "transfer",
            "formats": ["cms_attached"],
            "pin": PIN,
        }
        container.post("/v1/signatures", body, customer.token)

    return sign


# A floor returns the process CPU seconds of each of its parts, in order.
Floor = Callable[[], dict[str, float]]


def _floor_sign_digest(customer: _Customer, digest: bytes) -> Floor:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    def sign() -> dict[str, float]:
        started = time.process_time()
        key = serialization.load_der_private_key(
            customer.key_der, password=None, unsafe_skip_rsa_key_validation=True
        )
        if isinstance(key, rsa.RSAPrivateKey):
            key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        else:
            raise TypeError(type(key).__name__)
        return {"key + signature": time.process_time() - started}

    return sign


def _tlv(tag: int, *contents: bytes) -> bytes:
    # The floor's own DER writer (not the layer's): a floor must not move with the code it judges.
    content = b"".join(contents)
    if len(content) < 0x80:
        return bytes((tag, len(content))) + content
    octets = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(octets))) + octets + content


def _oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    body = bytearray()
    for arc in (40 * arcs[0] + arcs[1], *arcs[2:]):
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return _tlv(0x06, bytes(body))


class _TokenTemplate:
    """A signature time-stamp token (RFC 3161 TSTInfo in a CMS SignedData, ESS
    signingCertificateV2, the TSA certificate) with everything that does not change between
    tokens encoded once; per token: the imprint, serial and time, two SHA-256, the assembly.
    The signature is left as zero bytes: on the service side it is KMS's (a botocore call)."""

    def __init__(self, tsa_certificate_der: bytes, policy_oid: str):
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import rsa

        certificate = x509.load_der_x509_certificate(tsa_certificate_der)
        public_key = certificate.public_key()
        # template.yaml's TsaKey is RSA_2048; an ECDSA-P256 signature would be at most 72 octets.
        signature_size = public_key.key_size // 8 if isinstance(public_key, rsa.RSAPublicKey) else 72
        null, sha256 = b"\x05\x00", _oid("2.16.840.1.101.3.4.2.1")
        self._sha256_algorithm = _tlv(0x30, sha256, null)
        self._tst_info_head = _tlv(0x02, b"\x01") + _oid(policy_oid)
        self._tst_info_tail = _tlv(0x30, _tlv(0x02, b"\x01")) + _tlv(
            0xA0, _tlv(0xA4, certificate.subject.public_bytes())
        )
        serial = certificate.serial_number
        issuer_and_serial = (
            certificate.issuer.public_bytes(),
            _tlv(0x02, serial.to_bytes(serial.bit_length() // 8 + 1, "big")),
        )
        self._tst_info_type = _oid("1.2.840.113549.1.9.16.1.4")
        self._content_type = _tlv(0x30, _oid("1.2.840.113549.1.9.3"), _tlv(0x31, self._tst_info_type))
        self._message_digest = _oid("1.2.840.113549.1.9.4")
        cert_id = _tlv(
            0x30,
            _tlv(0x04, hashlib.sha256(tsa_certificate_der).digest()),
            _tlv(0x30, _tlv(0x30, _tlv(0xA4, issuer_and_serial[0])), issuer_and_serial[1]),
        )
        self._signing_certificate = _tlv(
            0x30, _oid("1.2.840.113549.1.9.16.2.47"), _tlv(0x31, _tlv(0x30, _tlv(0x30, cert_id)))
        )
        self._signer_head = _tlv(0x02, b"\x01") + _tlv(0x30, *issuer_and_serial) + self._sha256_algorithm
        self._signature = _tlv(0x30, _oid("1.2.840.113549.1.1.1"), null) + _tlv(0x04, bytes(signature_size))
        self._certificates = _tlv(0xA0, tsa_certificate_der)
        self._signed_data = _oid("1.2.840.113549.1.7.2")

    def token(self, value: bytes, serial: int, now: datetime) -> bytes:
        imprint = _tlv(0x30, self._sha256_algorithm, _tlv(0x04, hashlib.sha256(value).digest()))
        tst_info = _tlv(
            0x30,
            self._tst_info_head,
            imprint,
            _tlv(0x02, serial.to_bytes(serial.bit_length() // 8 + 1, "big")),
            _tlv(0x18, now.strftime("%Y%m%d%H%M%SZ").encode()),
            self._tst_info_tail,
        )
        digest = _tlv(0x30, self._message_digest, _tlv(0x31, _tlv(0x04, hashlib.sha256(tst_info).digest())))
        attributes = self._content_type + digest + self._signing_certificate
        signer_info = _tlv(0x30, self._signer_head, _tlv(0xA0, attributes), self._signature)
        signed_data = _tlv(
            0x30,
            _tlv(0x02, b"\x03"),
            _tlv(0x31, self._sha256_algorithm),
            _tlv(0x30, self._tst_info_type, _tlv(0xA0, _tlv(0x04, tst_info))),
            self._certificates,
            _tlv(0x31, signer_info),
        )
        return _tlv(0x30, self._signed_data, _tlv(0xA0, signed_data))


def _floor_content_signature(customer: _Customer, evidence: _Evidence) -> Floor:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509 import ocsp
    from fincert.wiring import services

    issuing = services().certificate_authority().issuing_certificate
    responder_certificate = x509.load_der_x509_certificate(evidence.responder_certificate_der)
    template = _TokenTemplate(evidence.tsa_certificate_der, evidence.tsa_policy_oid)
    data = CONTENT.encode()

    def sign() -> dict[str, float]:
        started = time.process_time()
        key = serialization.load_der_private_key(
            customer.key_der, password=None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError(type(key).__name__)
        certificate = x509.load_der_x509_certificate(customer.certificate_der)
        signed = (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(data)
            .add_signer(certificate, key, hashes.SHA256())
            .add_certificate(issuing)
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
        )
        cms_done = time.process_time()
        responder_key = serialization.load_der_private_key(
            evidence.responder_key_der, password=None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(responder_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError(type(responder_key).__name__)
        now = datetime.now(UTC).replace(microsecond=0)
        (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=certificate,
                issuer=issuing,
                algorithm=hashes.SHA1(),  # noqa: S303  (CertID, as the service answers)
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=now,
                next_update=now + timedelta(hours=1),
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, responder_certificate)
            .certificates([responder_certificate])
            .sign(responder_key, hashes.SHA256())
            .public_bytes(serialization.Encoding.DER)
        )
        ocsp_done = time.process_time()
        # Over the whole CMS rather than its signature value: the same hashing, without a parser.
        template.token(signed, certificate.serial_number, now)
        token_done = time.process_time()
        return {
            "key + CMS": cms_done - started,
            "OCSP response": ocsp_done - cms_done,
            "time-stamp token": token_done - ocsp_done,
        }

    return sign


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _row(
    request: str,
    key_algorithm: str,
    service: Callable[[], None],
    floor: Floor,
    requests: int,
) -> dict:
    for _ in range(WARMUP_REQUESTS):  # imports, clients, the CA read: what a warm container has done
        service()
        floor()
    service_cpu: list[float] = []
    botocore_cpu: list[float] = []
    floor_cpu: list[float] = []
    floor_parts: dict[str, list[float]] = {}
    per_function: dict[str, list[float]] = {}
    for _ in range(requests):  # alternately, so drift and other load touch both sides
        meter = _measured(service)
        service_cpu.append(meter.handlers - meter.botocore)
        botocore_cpu.append(meter.botocore)
        for function_id, spent in meter.service_by_function().items():
            per_function.setdefault(function_id, []).append(spent)
        started = time.process_time()
        parts = floor()
        floor_cpu.append(time.process_time() - started)
        for part, spent in parts.items():
            floor_parts.setdefault(part, []).append(spent)
    service_ms = statistics.median(service_cpu) * 1000
    floor_ms = statistics.median(floor_cpu) * 1000
    ratio = service_ms / floor_ms if floor_ms > 0 else float("inf")
    # The design's budget is for RSA-2048; EC P-256 is reported beside it, without one.
    budget = SIGNING_CPU_BUDGET if key_algorithm == "RSA_2048" else None
    return {
        "request": request,
        "key_algorithm": key_algorithm,
        "requests": requests,
        "service_cpu_median_ms": round(service_ms, 3),
        "floor_cpu_median_ms": round(floor_ms, 3),
        "ratio": round(ratio, 2),
        "budget": budget,
        "over_budget": None if budget is None else ratio > budget,
        # The floor's parts, in order (their medians need not add up to the floor's median).
        "floor_parts_median_ms": {part: _ms(statistics.median(v)) for part, v in floor_parts.items()},
        # Service CPU per function (the authorizer's included: it runs on every request), so the
        # report can say where the time goes; botocore's, which was taken out, for scale.
        "service_cpu_by_function_median_ms": {
            fn: _ms(statistics.median(v)) for fn, v in sorted(per_function.items())
        },
        "botocore_cpu_median_ms": _ms(statistics.median(botocore_cpu)),
        "service_cpu_ms": [_ms(v) for v in service_cpu],
        "floor_cpu_ms": [_ms(v) for v in floor_cpu],
    }


def measure_signing_cpu(container: WarmContainer, requests: int = DEFAULT_SIGNING_REQUESTS) -> list[dict]:
    """Four rows: a CSC signature (authorize + signHash) and a `POST /v1/signatures`
    (cms_attached, with its time-stamp token and OCSP answer), each with an RSA-2048 and an EC
    P-256 customer."""
    digest = hashlib.sha256(b"fincert-cloud bench: signing cpu").digest()
    digest_b64 = base64.b64encode(digest).decode()
    rows = []
    evidence = _evidence()
    with _botocore_cpu(), _handler_cpu(container):
        for key_algorithm in ("RSA_2048", "EC_P256"):
            customer = _customer(container, key_algorithm)
            rows.append(
                _row(
                    "CSC authorize + signHash",
                    key_algorithm,
                    _csc_signature(container, customer, digest_b64),
                    _floor_sign_digest(customer, digest),
                    requests,
                )
            )
            rows.append(
                _row(
                    "POST /v1/signatures",
                    key_algorithm,
                    _content_signature(container, customer),
                    _floor_content_signature(customer, evidence),
                    requests,
                )
            )
    return rows
