"""RSA keys for the tests' stand-ins for AWS, made once per test process and handed out again in
every test, instead of a new 2048-bit prime search (50-200 ms of CPU each) per key per test.

Who takes from the pool:
- moto's KMS, for every key it creates (`install()`, for the whole session). moto makes an RSA
  key for each KMS key, even a symmetric or an HMAC one that never uses it, and the template has
  six: about a second of CPU per test that uses the `aws` fixture, on a busy 2-core runner.
- the `ca` fixture's OCSP responder (`responder_keys()`, around the bootstrap only).

The service's own key generation (subscriber keys, a responder renewed inside a test) is not
pooled: the tests of those paths still make real keys.

Generated once per process rather than checked in: private keys committed to the repository
would trip secret scanners and invite reuse outside the tests, and the pool fills in about a
second per worker.

`restart()` (the `aws` fixture, when a test's moto starts) hands the keys out in the same order
again: the n-th key a test asks for is the pool's n-th, so the keys of one test are all distinct
(the root CA never shares its key with the issuing CA), whatever the number it asks for."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fincert.crypto.keys import KeyAlgorithm
from fincert.crypto.keys import generate_private_key as service_generate_private_key
from moto.kms import models as kms_models
from moto.kms import utils as kms_utils

_RSA_EXPONENT = 65537


class RsaKeyPool:
    def __init__(self) -> None:
        self._keys: dict[int, list[rsa.RSAPrivateKey]] = {}
        self._taken: dict[int, int] = {}

    def restart(self) -> None:
        self._taken.clear()

    def take(self, key_size: int = 2048) -> rsa.RSAPrivateKey:
        keys = self._keys.setdefault(key_size, [])
        n = self._taken.get(key_size, 0)
        if n == len(keys):
            keys.append(rsa.generate_private_key(public_exponent=_RSA_EXPONENT, key_size=key_size))
        self._taken[key_size] = n + 1
        return keys[n]


POOL = RsaKeyPool()
_moto_generate = kms_models.generate_private_key


def _moto_key(key_spec: str) -> Any:
    """moto.kms.utils.generate_private_key with the pool's keys; ECC keys (cheap) as moto makes
    them. Every spec moto backs with RSA, symmetric and HMAC included, takes a pooled one."""
    if key_spec in kms_utils.KeySpec.ecc_key_specs():
        return _moto_generate(key_spec)
    size = {kms_utils.KeySpec.RSA_3072: 3072, kms_utils.KeySpec.RSA_4096: 4096}.get(key_spec, 2048)
    key = object.__new__(kms_utils.RSAPrivateKey)  # its __init__ would search for primes
    key.key_size = size
    key.private_key = POOL.take(size)
    return key


def install() -> None:
    """Process-wide: moto's KMS takes its RSA keys from the pool."""
    kms_models.generate_private_key = _moto_key


@contextlib.contextmanager
def responder_keys() -> Iterator[None]:
    """Inside: the OCSP responder's key pair comes from the pool (fincert.domain.revocation_status
    names the key generator it calls; a rename there fails here, loudly)."""
    from fincert.domain import revocation_status

    def pooled(algorithm: KeyAlgorithm | str) -> Any:
        if KeyAlgorithm(algorithm) is KeyAlgorithm.RSA_2048:
            return POOL.take(2048)
        return service_generate_private_key(algorithm)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(revocation_status, "generate_private_key", pooled)
        yield
