"""An in-memory KMS implementing fincert.ports.KeyManagement, for domain unit tests.

It behaves like KMS where the domain could notice: signatures verify with the public key
(RSASSA-PSS salt = digest length, MessageType=DIGEST honoured), ciphertexts are bound to the key
and the encryption context, MACs are HMAC-SHA-256. `calls` logs every port call as
(operation, key_id), and `fail_next` makes the next call of one operation raise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fincert.errors import DecryptionRefused

SPECS = ("RSA_2048", "ECC_NIST_P256", "SYMMETRIC_DEFAULT", "HMAC_256")
OPERATIONS = ("sign", "public_key_der", "encrypt", "decrypt", "generate_mac", "verify_mac")
_SIGNING_ALGORITHMS = {
    "RSA_2048": ("RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_256"),
    "ECC_NIST_P256": ("ECDSA_SHA_256",),
}
_MAGIC = b"fakekms1"
_NONCE_SIZE = 12
# Real KMS limits (Sign: 4096-byte RAW messages; Encrypt: 4096-byte plaintexts).
_RAW_LIMIT = 4096
_PLAINTEXT_LIMIT = 4096


class FakeKmsError(Exception):
    """What the real adapter would raise for a request KMS rejects (bad key usage, size...)."""


@dataclass
class _Key:
    spec: str
    material: object


def _canonical_context(context: Mapping[str, str]) -> bytes:
    for k, v in context.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise FakeKmsError("encryption context keys and values must be strings")
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class FakeKeyManagement:
    def __init__(self) -> None:
        self._keys: dict[str, _Key] = {}
        self._faults: dict[str, list[BaseException]] = {}
        self.calls: list[tuple[str, str]] = []

    # --- test control (not recorded in `calls`) ---------------------------------------------
    def create_key(self, key_id: str, spec: str) -> str:
        if key_id in self._keys:
            raise FakeKmsError(f"key {key_id!r} exists")
        if spec == "RSA_2048":
            material: object = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif spec == "ECC_NIST_P256":
            material = ec.generate_private_key(ec.SECP256R1())
        elif spec == "SYMMETRIC_DEFAULT":
            material = AESGCM(AESGCM.generate_key(bit_length=256))
        elif spec == "HMAC_256":
            material = os.urandom(32)
        else:
            raise FakeKmsError(f"unsupported key spec {spec!r}")
        self._keys[key_id] = _Key(spec, material)
        return key_id

    def fail_next(self, operation: str, exc: BaseException) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}")
        self._faults.setdefault(operation, []).append(exc)

    def operations(self) -> list[str]:
        return [op for op, _ in self.calls]

    def _enter(self, operation: str, key_id: str) -> None:
        self.calls.append((operation, key_id))
        pending = self._faults.get(operation)
        if pending:
            raise pending.pop(0)

    def _key(self, key_id: str, *specs: str) -> _Key:
        key = self._keys.get(key_id)
        if key is None:
            raise FakeKmsError(f"no such key {key_id!r}")
        if key.spec not in specs:
            raise FakeKmsError(f"key {key_id!r} ({key.spec}) cannot do this")
        return key

    # --- KeyManagement ----------------------------------------------------------------------
    def sign(self, key_id: str, message: bytes, algorithm: str, *, is_digest: bool = False) -> bytes:
        self._enter("sign", key_id)
        key = self._key(key_id, "RSA_2048", "ECC_NIST_P256")
        if algorithm not in _SIGNING_ALGORITHMS[key.spec]:
            raise FakeKmsError(f"{algorithm} is not valid for a {key.spec} key")
        message = bytes(message)
        if is_digest:
            if len(message) != hashlib.sha256().digest_size:
                raise FakeKmsError("a SHA-256 digest is 32 bytes")
            hash_alg: hashes.HashAlgorithm | Prehashed = Prehashed(hashes.SHA256())
        else:
            if len(message) > _RAW_LIMIT:
                raise FakeKmsError("RAW messages are limited to 4096 bytes")
            hash_alg = hashes.SHA256()
        private = key.material
        if isinstance(private, ec.EllipticCurvePrivateKey):
            return private.sign(message, ec.ECDSA(hash_alg))
        if not isinstance(private, rsa.RSAPrivateKey):
            raise FakeKmsError("not a signing key")
        if algorithm == "RSASSA_PSS_SHA_256":
            pad: padding.AsymmetricPadding = padding.PSS(
                mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH
            )
        else:
            pad = padding.PKCS1v15()
        return private.sign(message, pad, hash_alg)

    def public_key_der(self, key_id: str) -> bytes:
        self._enter("public_key_der", key_id)
        private = self._key(key_id, "RSA_2048", "ECC_NIST_P256").material
        if not isinstance(private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise FakeKmsError("not an asymmetric key")
        return private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def encrypt(self, key_id: str, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        self._enter("encrypt", key_id)
        aead = self._key(key_id, "SYMMETRIC_DEFAULT").material
        if not isinstance(aead, AESGCM):
            raise FakeKmsError("not a symmetric key")
        if len(plaintext) > _PLAINTEXT_LIMIT:
            raise FakeKmsError("plaintext larger than 4096 bytes")
        nonce = os.urandom(_NONCE_SIZE)
        kid = key_id.encode()
        sealed = aead.encrypt(nonce, bytes(plaintext), _canonical_context(context))
        return _MAGIC + struct.pack(">H", len(kid)) + kid + nonce + sealed

    def decrypt(self, key_id: str, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        self._enter("decrypt", key_id)
        aad = _canonical_context(context)
        key = self._keys.get(key_id)
        if key is None or key.spec != "SYMMETRIC_DEFAULT" or not isinstance(key.material, AESGCM):
            raise DecryptionRefused("unknown key or not an encryption key")
        blob = bytes(ciphertext)
        header = len(_MAGIC) + 2
        if len(blob) < header or not blob.startswith(_MAGIC):
            raise DecryptionRefused("not a ciphertext of this KMS")
        (kid_len,) = struct.unpack(">H", blob[len(_MAGIC) : header])
        kid = blob[header : header + kid_len]
        rest = blob[header + kid_len :]
        if kid != key_id.encode():
            raise DecryptionRefused("ciphertext was produced under another key")
        try:
            return key.material.decrypt(rest[:_NONCE_SIZE], rest[_NONCE_SIZE:], aad)
        except (InvalidTag, ValueError) as e:
            raise DecryptionRefused("encryption context mismatch or corrupt ciphertext") from e

    def generate_mac(self, key_id: str, message: bytes) -> bytes:
        self._enter("generate_mac", key_id)
        return hmac.new(self._mac_secret(key_id), bytes(message), hashlib.sha256).digest()

    def verify_mac(self, key_id: str, message: bytes, mac: bytes) -> bool:
        self._enter("verify_mac", key_id)
        expected = hmac.new(self._mac_secret(key_id), bytes(message), hashlib.sha256).digest()
        return hmac.compare_digest(expected, bytes(mac))

    def _mac_secret(self, key_id: str) -> bytes:
        secret = self._key(key_id, "HMAC_256").material
        if not isinstance(secret, bytes):
            raise FakeKmsError("not an HMAC key")
        return secret
