"""The KMS adapter: the only code that talks to KMS."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from fincert.adapters.aws_errors import aws_call, error_code, is_throttling
from fincert.domain.metrics import KMS_THROTTLES, NO_METRICS
from fincert.errors import DecryptionRefused, ServiceUnavailable
from fincert.ports import Metrics


class KmsKeyManagement:
    def __init__(self, client: Callable[[], Any], metrics: Metrics = NO_METRICS):
        self._client = client
        self._metrics = metrics

    @contextmanager
    def _call(self, operation: str) -> Iterator[None]:
        """aws_call, counting throttles: KMS's per-account request quotas are shared by every
        function, and a throttle is the first sign that traffic outgrew them."""
        try:
            with aws_call("KMS"):
                yield
        except ServiceUnavailable as e:
            if isinstance(e.__cause__, ClientError) and is_throttling(e.__cause__):
                self._metrics.count(KMS_THROTTLES, Operation=operation)
            raise

    def sign(self, key_id: str, message: bytes, algorithm: str, *, is_digest: bool = False) -> bytes:
        with self._call("Sign"):
            response = self._client().sign(
                KeyId=key_id,
                Message=message,
                MessageType="DIGEST" if is_digest else "RAW",
                SigningAlgorithm=algorithm,
            )
        return response["Signature"]

    def public_key_der(self, key_id: str) -> bytes:
        with self._call("GetPublicKey"):
            return self._client().get_public_key(KeyId=key_id)["PublicKey"]

    def encrypt(self, key_id: str, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        with self._call("Encrypt"):
            response = self._client().encrypt(
                KeyId=key_id, Plaintext=plaintext, EncryptionContext=dict(context)
            )
        return response["CiphertextBlob"]

    def decrypt(self, key_id: str, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        try:
            with self._call("Decrypt"):
                response = self._client().decrypt(
                    KeyId=key_id, CiphertextBlob=ciphertext, EncryptionContext=dict(context)
                )
        except ClientError as e:
            if error_code(e) in {"InvalidCiphertextException", "IncorrectKeyException"}:
                raise DecryptionRefused("KMS refused the ciphertext in this context") from e
            raise
        return response["Plaintext"]

    def generate_mac(self, key_id: str, message: bytes) -> bytes:
        with self._call("GenerateMac"):
            return self._client().generate_mac(KeyId=key_id, Message=message, MacAlgorithm="HMAC_SHA_256")[
                "Mac"
            ]

    def verify_mac(self, key_id: str, message: bytes, mac: bytes) -> bool:
        try:
            with self._call("VerifyMac"):
                response = self._client().verify_mac(
                    KeyId=key_id, Message=message, Mac=mac, MacAlgorithm="HMAC_SHA_256"
                )
        except ClientError as e:
            if error_code(e) == "KMSInvalidMacException":
                return False
            raise
        return bool(response["MacValid"])
