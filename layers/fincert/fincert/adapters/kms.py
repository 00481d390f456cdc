"""The KMS adapter: the only code that talks to KMS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from fincert.adapters.aws_errors import aws_call, error_code
from fincert.errors import DecryptionRefused


class KmsKeyManagement:
    def __init__(self, client: Callable[[], Any]):
        self._client = client

    def sign(self, key_id: str, message: bytes, algorithm: str, *, is_digest: bool = False) -> bytes:
        with aws_call("KMS"):
            response = self._client().sign(
                KeyId=key_id,
                Message=message,
                MessageType="DIGEST" if is_digest else "RAW",
                SigningAlgorithm=algorithm,
            )
        return response["Signature"]

    def public_key_der(self, key_id: str) -> bytes:
        with aws_call("KMS"):
            return self._client().get_public_key(KeyId=key_id)["PublicKey"]

    def encrypt(self, key_id: str, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        with aws_call("KMS"):
            response = self._client().encrypt(
                KeyId=key_id, Plaintext=plaintext, EncryptionContext=dict(context)
            )
        return response["CiphertextBlob"]

    def decrypt(self, key_id: str, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        try:
            with aws_call("KMS"):
                response = self._client().decrypt(
                    KeyId=key_id, CiphertextBlob=ciphertext, EncryptionContext=dict(context)
                )
        except ClientError as e:
            if error_code(e) in {"InvalidCiphertextException", "IncorrectKeyException"}:
                raise DecryptionRefused("KMS refused the ciphertext in this context") from e
            raise
        return response["Plaintext"]

    def generate_mac(self, key_id: str, message: bytes) -> bytes:
        with aws_call("KMS"):
            return self._client().generate_mac(KeyId=key_id, Message=message, MacAlgorithm="HMAC_SHA_256")[
                "Mac"
            ]

    def verify_mac(self, key_id: str, message: bytes, mac: bytes) -> bool:
        try:
            with aws_call("KMS"):
                response = self._client().verify_mac(
                    KeyId=key_id, Message=message, Mac=mac, MacAlgorithm="HMAC_SHA_256"
                )
        except ClientError as e:
            if error_code(e) == "KMSInvalidMacException":
                return False
            raise
        return bool(response["MacValid"])
