"""Test-only corrections to moto where it is not faithful to AWS in a way our code depends on.

`kms_message_type_digest()`: moto 5.2 KMS ignores `MessageType=DIGEST`.
Real KMS `Sign`/`Verify` with MessageType=DIGEST take the message as an already computed digest
and sign it as is (PKCS#1 v1.5 DigestInfo / PSS / ECDSA over that digest). moto's `KmsResponse`
reads MessageType and throws it away (models.py: "The MessageType-parameter DIGEST is not yet
implemented"), so its key hashes the 32-byte digest a second time: the signature is over
SHA-256(SHA-256(TBS)) and no verifier accepts it. The production KMS key class
(`fincert.crypto.kms_keys`) sends a CRL whose TBSCertList passes KMS's 4096-byte RAW limit as a
DIGEST, so without this patch that path cannot be tested against moto at all.

What the patch does, and nothing more, while the context manager is active:
- `KmsResponse.sign`/`verify` read MessageType. For DIGEST they check the message is exactly
  the digest length of the signing algorithm (KMS's ValidationException otherwise) and flag the
  call, so moto's RSA/ECDSA key objects sign/verify with `Prehashed(hash)` instead of hashing.
  The padding and hash still come from moto's own per-algorithm helpers; key lookup, key usage
  and algorithm checks are moto's code, unchanged.
- For RAW they enforce KMS's 4096-byte limit, which moto does not: a regression that sent a large
  TBS as RAW would otherwise pass against moto and fail in AWS.
Other MessageTypes, and everything else moto does, are untouched. (Also not corrected, since
nothing here uses it: moto's RSASSA_PSS uses the maximum salt length, KMS the digest length.)

Use: `with mock_aws(), kms_message_type_digest(): ...` around the signing that needs it (see
tests/unit/test_crl.py). Patches are process-wide while active, so keep the block narrow.
It patches moto's classes only (`unittest.mock.patch.object`), never production code. Tested
with `mock_aws()`; an in-process ThreadedMotoServer should behave the same (the flag is a
ContextVar, set and read in the thread serving the request), but that is not exercised here.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from moto.kms import responses as kms_responses
from moto.kms import utils as kms_utils
from moto.kms.exceptions import ValidationException

# KMS Sign/Verify: "Message ... up to 4096 bytes" for MessageType=RAW.
KMS_RAW_MESSAGE_LIMIT = 4096

_DIGEST_SIZES = {"SHA_256": 32, "SHA_384": 48, "SHA_512": 64}
_digest_call: contextvars.ContextVar[bool] = contextvars.ContextVar("moto_kms_digest_call", default=False)


def _check_message(message_type: str, message: Any, signing_algorithm: str) -> None:
    size = len(message) if isinstance(message, bytes | str) else 0
    if message_type == "RAW" and size > KMS_RAW_MESSAGE_LIMIT:
        raise ValidationException(
            "1 validation error detected: Value at 'Message' failed to satisfy constraint: "
            f"Member must have length less than or equal to {KMS_RAW_MESSAGE_LIMIT}"
        )
    if message_type == "DIGEST":
        expected = next(
            (n for suffix, n in _DIGEST_SIZES.items() if signing_algorithm.endswith(suffix)), None
        )
        if expected is not None and size != expected:
            raise ValidationException(f"Digest is invalid length for algorithm {signing_algorithm}.")


def _handler(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def handler(self: Any) -> str:
        message_type = self._get_param("MessageType") or "RAW"
        _check_message(message_type, self._get_param("Message"), self._get_param("SigningAlgorithm") or "")
        token = _digest_call.set(message_type == "DIGEST")
        try:
            return original(self)
        finally:
            _digest_call.reset(token)

    return handler


# Digest-mode versions of moto's key methods. They reuse moto's own (name-mangled) choice of
# padding and hash for the algorithm and only swap `hash` for `Prehashed(hash)`.
def _rsa_sign(key: kms_utils.RSAPrivateKey, message: bytes, signing_algorithm: str) -> bytes:
    kms_utils.validate_signing_algorithm(
        signing_algorithm, kms_utils.SigningAlgorithm.rsa_signing_algorithms()
    )
    pad, algorithm = key._RSAPrivateKey__padding_and_hash_algorithm(signing_algorithm)  # type: ignore[attr-defined]
    return key.private_key.sign(message, pad, Prehashed(algorithm))


def _rsa_verify(
    key: kms_utils.RSAPrivateKey, message: bytes, signature: bytes, signing_algorithm: str
) -> bool:
    kms_utils.validate_signing_algorithm(
        signing_algorithm, kms_utils.SigningAlgorithm.rsa_signing_algorithms()
    )
    pad, algorithm = key._RSAPrivateKey__padding_and_hash_algorithm(signing_algorithm)  # type: ignore[attr-defined]
    try:
        key.private_key.public_key().verify(signature, message, pad, Prehashed(algorithm))
    except InvalidSignature:
        return False
    return True


def _ecdsa_sign(key: kms_utils.ECDSAPrivateKey, message: bytes, signing_algorithm: str) -> bytes:
    kms_utils.validate_signing_algorithm(signing_algorithm, key.valid_signing_algorithms)
    algorithm = key._ECDSAPrivateKey__hash_algorithm(signing_algorithm)  # type: ignore[attr-defined]
    return key.private_key.sign(message, ec.ECDSA(Prehashed(algorithm)))


def _ecdsa_verify(
    key: kms_utils.ECDSAPrivateKey, message: bytes, signature: bytes, signing_algorithm: str
) -> bool:
    kms_utils.validate_signing_algorithm(signing_algorithm, key.valid_signing_algorithms)
    algorithm = key._ECDSAPrivateKey__hash_algorithm(signing_algorithm)  # type: ignore[attr-defined]
    try:
        key.private_key.public_key().verify(signature, message, ec.ECDSA(Prehashed(algorithm)))
    except InvalidSignature:
        return False
    return True


def _key_method(original: Callable[..., Any], digest_version: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any) -> Any:
        return digest_version(self, *args) if _digest_call.get() else original(self, *args)

    return method


_KEY_METHODS = {
    (kms_utils.RSAPrivateKey, "sign"): _rsa_sign,
    (kms_utils.RSAPrivateKey, "verify"): _rsa_verify,
    (kms_utils.ECDSAPrivateKey, "sign"): _ecdsa_sign,
    (kms_utils.ECDSAPrivateKey, "verify"): _ecdsa_verify,
}


@contextlib.contextmanager
def kms_message_type_digest() -> Iterator[None]:
    """Makes moto's KMS honour MessageType=DIGEST (and KMS's RAW size limit): see the module doc."""
    with contextlib.ExitStack() as stack:
        for name in ("sign", "verify"):
            handler = _handler(getattr(kms_responses.KmsResponse, name))
            stack.enter_context(mock.patch.object(kms_responses.KmsResponse, name, handler))
        for (key_class, name), digest_version in _KEY_METHODS.items():
            method = _key_method(getattr(key_class, name), digest_version)
            stack.enter_context(mock.patch.object(key_class, name, method))
        yield
