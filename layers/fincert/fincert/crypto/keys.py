"""Subscriber key generation and encoding. Keys leave this module only as DER: PKCS#8 for the
private key (unencrypted on purpose: KMS Encrypt wraps it under an encryption context, a second
password layer would add nothing but a secret to keep) and SubjectPublicKeyInfo for the public key."""

from __future__ import annotations

from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

# 65537 is the only exponent KMS and most relying parties accept; 2048 bits is what Korean
# relying parties expect of an RSA financial certificate.
_RSA_PUBLIC_EXPONENT = 65537
_RSA_KEY_SIZE = 2048

# KMS SigningAlgorithmSpec names.
RSASSA_PKCS1_V1_5_SHA_256 = "RSASSA_PKCS1_V1_5_SHA_256"
RSASSA_PSS_SHA_256 = "RSASSA_PSS_SHA_256"
ECDSA_SHA_256 = "ECDSA_SHA_256"


class KeyAlgorithm(StrEnum):
    RSA_2048 = "RSA_2048"
    EC_P256 = "EC_P256"


def generate_private_key(alg: KeyAlgorithm | str) -> PrivateKey:
    alg = KeyAlgorithm(alg)
    if alg is KeyAlgorithm.RSA_2048:
        return rsa.generate_private_key(public_exponent=_RSA_PUBLIC_EXPONENT, key_size=_RSA_KEY_SIZE)
    return ec.generate_private_key(ec.SECP256R1())


def key_algorithm_of(key: PrivateKey | PublicKey) -> KeyAlgorithm:
    """The KeyAlgorithm a key belongs to; ValueError for anything this service does not issue."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) and key.key_size == _RSA_KEY_SIZE:
        return KeyAlgorithm.RSA_2048
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return KeyAlgorithm.EC_P256
    raise ValueError(f"unsupported key type: {type(key).__name__}")


def private_key_to_der(key: PrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def private_key_from_der(der: bytes) -> PrivateKey:
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported private key type: {type(key).__name__}")
    return key


def private_key_from_kms_decryption(der: bytes) -> PrivateKey:
    """A key this service generated, from the plaintext of KMS Decrypt, and from nothing else:
    the RSA key is not re-validated. Two keys come this way: a subscriber's (context
    `{purpose: subscriber-key, account_id, credential_id}`) and the delegated OCSP responder's
    (`{purpose: ocsp-responder, responder_serial}`).

    Why that is safe here: the bytes are what KMS authenticated decryption returned (symmetric KMS
    keys are AES-256-GCM; the encryption context is bound to the ciphertext as additional
    authenticated data). A ciphertext or context changed by a single bit fails with
    InvalidCiphertextException before any byte reaches this function, so the DER is exactly what
    the service encrypted: `private_key_to_der` of a key it generated itself (issuance, renewal,
    the responder's renewal). cryptography's docs for
    `load_der_private_key(..., unsafe_skip_rsa_key_validation=True)`
    (https://cryptography.io/en/latest/hazmat/primitives/asymmetric/serialization/, since 39.0.0):
    it "significantly speeds up loading the keys, but is unsafe unless you are certain the key is
    valid. User supplied keys should never be loaded with this parameter set to True." No user
    supplied key reaches this function: the service never imports keys. The validation it skips
    (checking p and q are prime, n = pq, d, the CRT values) costs ~37 ms of CPU per RSA-2048 load,
    against ~0.3 ms for the signature itself, and a subscriber key is loaded for every signature
    (decrypted subscriber keys are never cached; the responder's is loaded once per container,
    where the check was ~37 ms of the signing and PKI functions' first request). cryptography
    itself skips it for a key it has just generated.

    Every other loader (private_key_from_der: tests, anything not out of KMS) keeps validation.
    """
    key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported private key type: {type(key).__name__}")
    return key


def public_key_der(key_or_pub: PrivateKey | PublicKey) -> bytes:
    pub = key_or_pub.public_key() if isinstance(key_or_pub, PrivateKey) else key_or_pub
    return pub.public_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def public_key_from_der(der: bytes) -> PublicKey:
    pub = serialization.load_der_public_key(der)
    if not isinstance(pub, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ValueError(f"unsupported public key type: {type(pub).__name__}")
    return pub


def certificate_public_key(certificate: x509.Certificate) -> PublicKey:
    """A certificate's key as one of the key types this service issues and signs with."""
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ValueError(f"unsupported public key type: {type(key).__name__}")
    return key


def signing_algorithm_for(public_key: PublicKey) -> str:
    """The KMS signing algorithm a CA key of this type signs certificates, CRLs and OCSP with."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return RSASSA_PKCS1_V1_5_SHA_256
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1):
        return ECDSA_SHA_256
    raise ValueError(f"no KMS signing algorithm for {type(public_key).__name__}")
