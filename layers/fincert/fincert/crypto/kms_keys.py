"""Private-key objects whose signing happens in KMS, so cryptography's builders (certificates,
CRLs, OCSP responses, PKCS#7/CMS) sign with a CA key that never leaves KMS.

The builders call `sign(data, padding, algorithm)` on the key object with the exact bytes to be
signed (for a certificate, the DER TBSCertificate). Before KMS is asked, `before_sign` sees those
bytes, so the caller can durably record what is about to be signed (serial, TBS hash): a crash
between KMS signing and storing the result then leaves a record a reconciler can act on, never an
unknown certificate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Self

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import NoDigestInfo, Prehashed

from fincert.crypto.keys import ECDSA_SHA_256, RSASSA_PKCS1_V1_5_SHA_256, RSASSA_PSS_SHA_256
from fincert.ports import KeyManagement

BeforeSign = Callable[[bytes], None]

# KMS Sign accepts MessageType=RAW only up to 4096 bytes; larger inputs (a long CRL) are hashed
# here and sent as MessageType=DIGEST.
KMS_RAW_MESSAGE_LIMIT = 4096

_SHA256_DIGEST_SIZE = hashlib.sha256().digest_size


class KmsKeyExportError(TypeError):
    """The operation would need the private key material, which only KMS holds."""


def _is_sha256(algorithm: object) -> bool:
    return isinstance(algorithm, hashes.SHA256)


def _prehashed_sha256(algorithm: object) -> bool:
    return isinstance(algorithm, Prehashed) and _is_sha256(getattr(algorithm, "_algorithm", None))


def _unsupported(what: str) -> UnsupportedAlgorithm:
    return UnsupportedAlgorithm(f"KMS-backed keys cannot sign with {what}")


def _check_hash(algorithm: object) -> bool:
    """True when `data` is already a digest. Only SHA-256 is mapped: every KMS algorithm this
    service uses (RSASSA_PKCS1_V1_5_SHA_256, RSASSA_PSS_SHA_256, ECDSA_SHA_256) is SHA-256."""
    if _is_sha256(algorithm):
        return False
    if _prehashed_sha256(algorithm):
        return True
    raise _unsupported(f"hash {type(algorithm).__name__}")


class _KmsSigner:
    def __init__(self, kms: KeyManagement, key_id: str, before_sign: BeforeSign | None):
        if not key_id:
            raise ValueError("key_id is required")
        self._kms = kms
        self._key_id = key_id
        self._before_sign = before_sign

    @property
    def key_id(self) -> str:
        return self._key_id

    def _kms_sign(self, data: bytes, kms_algorithm: str, *, prehashed: bool) -> bytes:
        data = bytes(data)
        if prehashed and len(data) != _SHA256_DIGEST_SIZE:
            raise ValueError(f"a prehashed SHA-256 digest is {_SHA256_DIGEST_SIZE} bytes, got {len(data)}")
        if self._before_sign is not None:
            self._before_sign(data)
        if prehashed:
            return self._kms.sign(self._key_id, data, kms_algorithm, is_digest=True)
        if len(data) > KMS_RAW_MESSAGE_LIMIT:
            digest = hashlib.sha256(data).digest()
            return self._kms.sign(self._key_id, digest, kms_algorithm, is_digest=True)
        return self._kms.sign(self._key_id, data, kms_algorithm)

    @staticmethod
    def _refuse(operation: str) -> KmsKeyExportError:
        return KmsKeyExportError(f"{operation} is not possible: the private key lives only in KMS")

    # The ABCs' key-export methods, refused alike for RSA and EC (the mixin comes first in the MRO).
    def private_numbers(self) -> Any:
        raise self._refuse("private_numbers()")

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        raise self._refuse("private_bytes()")

    # Key objects are immutable handles (cryptography's own keys return self too); a copy that
    # pointed at the same KMS key would be indistinguishable anyway.
    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict) -> Self:
        return self


class KmsRsaPrivateKey(_KmsSigner, rsa.RSAPrivateKey):
    def __init__(
        self,
        kms: KeyManagement,
        key_id: str,
        public_key: rsa.RSAPublicKey,
        before_sign: BeforeSign | None = None,
    ):
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise TypeError("KmsRsaPrivateKey needs an RSA public key")
        super().__init__(kms, key_id, before_sign)
        self._public_key = public_key

    def sign(
        self,
        data: bytes,
        padding: asym_padding.AsymmetricPadding,
        algorithm: Prehashed | hashes.HashAlgorithm | NoDigestInfo,
    ) -> bytes:
        kms_algorithm = _rsa_kms_algorithm(padding)
        prehashed = _check_hash(algorithm)
        return self._kms_sign(data, kms_algorithm, prehashed=prehashed)

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public_key

    @property
    def key_size(self) -> int:
        return self._public_key.key_size

    def decrypt(self, ciphertext: bytes, padding: asym_padding.AsymmetricPadding) -> bytes:
        # A CA signing key (KeyUsage SIGN_VERIFY) cannot decrypt in KMS either.
        raise self._refuse("RSA decryption with a KMS signing key")

    def __repr__(self) -> str:
        return f"<KmsRsaPrivateKey key_id={self._key_id!r} key_size={self.key_size}>"


def _rsa_kms_algorithm(pad: object) -> str:
    if isinstance(pad, asym_padding.PKCS1v15):
        return RSASSA_PKCS1_V1_5_SHA_256
    if isinstance(pad, asym_padding.PSS):
        # KMS RSASSA_PSS_SHA_256 is MGF1-SHA-256 with a salt as long as the digest (32 bytes):
        # any other salt length or MGF hash would make a signature KMS cannot produce.
        mgf = pad.mgf
        salt = getattr(pad, "_salt_length", None)
        salt_ok = salt is asym_padding.PSS.DIGEST_LENGTH or (
            isinstance(salt, int) and not isinstance(salt, bool) and salt == _SHA256_DIGEST_SIZE
        )
        if isinstance(mgf, asym_padding.MGF1) and _is_sha256(getattr(mgf, "_algorithm", None)) and salt_ok:
            return RSASSA_PSS_SHA_256
        raise _unsupported("PSS other than MGF1-SHA-256 with a 32-byte salt")
    raise _unsupported(f"padding {type(pad).__name__}")


class KmsEcPrivateKey(_KmsSigner, ec.EllipticCurvePrivateKey):
    def __init__(
        self,
        kms: KeyManagement,
        key_id: str,
        public_key: ec.EllipticCurvePublicKey,
        before_sign: BeforeSign | None = None,
    ):
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise TypeError("KmsEcPrivateKey needs an EC public key")
        # KMS pairs ECC_NIST_P256 with ECDSA_SHA_256; other curves need other hashes.
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise ValueError(f"unsupported curve {public_key.curve.name}: only P-256 is supported")
        super().__init__(kms, key_id, before_sign)
        self._public_key = public_key

    def sign(
        self,
        data: bytes | bytearray | memoryview,
        signature_algorithm: ec.EllipticCurveSignatureAlgorithm,
    ) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise _unsupported(f"signature algorithm {type(signature_algorithm).__name__}")
        prehashed = _check_hash(signature_algorithm.algorithm)
        return self._kms_sign(bytes(data), ECDSA_SHA_256, prehashed=prehashed)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public_key

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public_key.curve

    @property
    def key_size(self) -> int:
        return self._public_key.curve.key_size

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise self._refuse("ECDH key exchange")

    def __repr__(self) -> str:
        return f"<KmsEcPrivateKey key_id={self._key_id!r} curve={self.curve.name}>"


KmsPrivateKey = KmsRsaPrivateKey | KmsEcPrivateKey


def kms_private_key(
    kms: KeyManagement,
    key_id: str,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    before_sign: BeforeSign | None = None,
) -> KmsRsaPrivateKey | KmsEcPrivateKey:
    if isinstance(public_key, rsa.RSAPublicKey):
        return KmsRsaPrivateKey(kms, key_id, public_key, before_sign)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return KmsEcPrivateKey(kms, key_id, public_key, before_sign)
    raise TypeError(f"no KMS key class for {type(public_key).__name__}")
