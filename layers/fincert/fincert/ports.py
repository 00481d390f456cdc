"""The outside services the domain and the crypto need, other than storage: KMS, SMS, a clock
and a job queue. Adapters (boto3) and test fakes implement them; nothing here imports boto3 or
the domain. The storage roles, which speak in domain records, are in fincert.domain.stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol


class KeyManagement(Protocol):
    """KMS as the domain sees it. Key ids are whatever the settings hold (id, ARN or alias)."""

    def sign(self, key_id: str, message: bytes, algorithm: str, *, is_digest: bool = False) -> bytes:
        """Sign `message` with an asymmetric key. `algorithm` is a KMS SigningAlgorithm name
        (RSASSA_PKCS1_V1_5_SHA_256, RSASSA_PSS_SHA_256, ECDSA_SHA_256). With is_digest=True,
        `message` is already the SHA-256 digest (KMS MessageType=DIGEST)."""
        ...

    def public_key_der(self, key_id: str) -> bytes:
        """The key's SubjectPublicKeyInfo, DER."""
        ...

    def encrypt(self, key_id: str, plaintext: bytes, context: Mapping[str, str]) -> bytes: ...

    def decrypt(self, key_id: str, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        """Raises fincert.errors.DecryptionRefused when the key or the context do not match."""
        ...

    def generate_mac(self, key_id: str, message: bytes) -> bytes:
        """HMAC-SHA-256 under a KMS HMAC key."""
        ...

    def verify_mac(self, key_id: str, message: bytes, mac: bytes) -> bool: ...


class SmsSender(Protocol):
    def send_sms(self, phone_e164: str, text: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class JobQueue(Protocol):
    """Where a job's planner puts work for its workers (SQS)."""

    def send(self, messages: Sequence[Mapping[str, object]]) -> None:
        """Sends each message (JSON-serialisable); raises ServiceUnavailable if any was not sent."""
        ...


class Metrics(Protocol):
    """Operational counters (CloudWatch EMF in Lambda). `name` and every dimension value come
    from fincert.domain.metrics' catalogue; an implementation refuses anything else."""

    def count(self, name: str, value: int = 1, **dimensions: str) -> None: ...
