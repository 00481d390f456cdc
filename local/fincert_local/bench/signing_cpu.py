"""Warm service CPU per signature against the cryptography's own cost (docs/design.md: <= 5x the
floor of the same run; the budget is in budgets.py).

Service CPU of one request: the process CPU time (`time.process_time`) spent inside the Lambda
handlers the request runs (the authorizer's and the function's; not the local gateway's event
building, which is API Gateway's job), minus the process CPU time spent inside botocore calls
made from them (`BaseClient._make_api_call`: the client's own work and moto's, which runs in this
process's server threads, are AWS's time, not ours). What is left is Powertools' routing,
validation and logging, JSON, our layer and the cryptography.

The floor, measured in the same run with the same key: load the key's PKCS#8 DER without RSA
re-validation and sign a SHA-256 digest (the CSC rows); load it the same way and build the CMS
SignedData the FinCert route returns (attached, over the same content, with the same certificates).
Both sides are medians of N on a warm container: each side's first requests warm it up first.
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


def _floor_sign_digest(customer: _Customer, digest: bytes) -> Callable[[], None]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    def sign() -> None:
        key = serialization.load_der_private_key(
            customer.key_der, password=None, unsafe_skip_rsa_key_validation=True
        )
        if isinstance(key, rsa.RSAPrivateKey):
            key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        else:
            raise TypeError(type(key).__name__)

    return sign


def _floor_build_cms(customer: _Customer) -> Callable[[], None]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7
    from fincert.wiring import services

    issuing = services().certificate_authority().issuing_certificate
    data = CONTENT.encode()

    def sign() -> None:
        key = serialization.load_der_private_key(
            customer.key_der, password=None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError(type(key).__name__)
        certificate = x509.load_der_x509_certificate(customer.certificate_der)
        (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(data)
            .add_signer(certificate, key, hashes.SHA256())
            .add_certificate(issuing)
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
        )

    return sign


def _floor_cpu(work: Callable[[], None]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _row(
    request: str,
    key_algorithm: str,
    service: Callable[[], None],
    floor: Callable[[], None],
    requests: int,
) -> dict:
    for _ in range(WARMUP_REQUESTS):  # imports, clients, the CA read: what a warm container has done
        service()
        floor()
    service_cpu: list[float] = []
    botocore_cpu: list[float] = []
    floor_cpu: list[float] = []
    per_function: dict[str, list[float]] = {}
    for _ in range(requests):  # alternately, so drift and other load touch both sides
        meter = _measured(service)
        service_cpu.append(meter.handlers - meter.botocore)
        botocore_cpu.append(meter.botocore)
        for function_id, spent in meter.service_by_function().items():
            per_function.setdefault(function_id, []).append(spent)
        floor_cpu.append(_floor_cpu(floor))
    service_ms = statistics.median(service_cpu) * 1000
    floor_ms = statistics.median(floor_cpu) * 1000
    ratio = service_ms / floor_ms if floor_ms > 0 else float("inf")
    return {
        "request": request,
        "key_algorithm": key_algorithm,
        "requests": requests,
        "service_cpu_median_ms": round(service_ms, 3),
        "floor_cpu_median_ms": round(floor_ms, 3),
        "ratio": round(ratio, 2),
        "budget": SIGNING_CPU_BUDGET,
        "over_budget": ratio > SIGNING_CPU_BUDGET,
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
    (cms_attached), each with an RSA-2048 and an EC P-256 customer."""
    digest = hashlib.sha256(b"fincert-cloud bench: signing cpu").digest()
    digest_b64 = base64.b64encode(digest).decode()
    rows = []
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
                    _floor_build_cms(customer),
                    requests,
                )
            )
    return rows
