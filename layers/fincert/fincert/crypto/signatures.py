"""Making subscriber signatures: the schemes a CSC client may ask for (signAlgo, hashAlgo,
signAlgoParams) resolved against a key, signing a SHA-256 digest with one, and CMS SignedData
over content. Pure functions over `cryptography`; the key is decrypted by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from asn1crypto import algos
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import pkcs7

from fincert.crypto.keys import KeyAlgorithm
from fincert.errors import InvalidRequest

# A subscriber key, decrypted for one signature and never kept.
SubscriberKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class Oid(StrEnum):
    SHA256 = "2.16.840.1.101.3.4.2.1"
    RSA = "1.2.840.113549.1.1.1"
    SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
    RSASSA_PSS = "1.2.840.113549.1.1.10"
    EC_PUBLIC_KEY = "1.2.840.10045.2.1"
    ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"


# What each key can do, as CSC credentials/info lists it (the key's own OID first).
KEY_ALGORITHM_OIDS = {
    KeyAlgorithm.RSA_2048: [Oid.RSA, Oid.SHA256_WITH_RSA, Oid.RSASSA_PSS],
    KeyAlgorithm.EC_P256: [Oid.EC_PUBLIC_KEY, Oid.ECDSA_WITH_SHA256],
}


@dataclass(frozen=True)
class SignatureScheme:
    """How to sign a SHA-256 digest: PKCS#1 v1.5, PSS (with its salt length) or ECDSA."""

    kind: str  # "pkcs1" | "pss" | "ecdsa"
    salt_length: int = 0

    @classmethod
    def default_for(cls, key: SubscriberKey) -> SignatureScheme:
        """A raw signature's scheme: PKCS#1 v1.5 for RSA (what Korean relying parties expect),
        ECDSA for EC."""
        return cls("ecdsa" if isinstance(key, ec.EllipticCurvePrivateKey) else "pkcs1")

    def sign(self, key: object, digest: bytes) -> bytes:
        prehashed = Prehashed(hashes.SHA256())
        if self.kind == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(digest, ec.ECDSA(prehashed))
        if self.kind == "pss" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(digest, padding.PSS(padding.MGF1(hashes.SHA256()), self.salt_length), prehashed)
        if self.kind == "pkcs1" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(digest, padding.PKCS1v15(), prehashed)
        raise InvalidRequest("signAlgo does not fit this credential's key", code="sign_algo_unsupported")


def resolve_scheme(
    key_algorithm: KeyAlgorithm, sign_algo: str, hash_algo: str | None, params_der: bytes | None
) -> SignatureScheme:
    """CSC signAlgo / hashAlgo / signAlgoParams -> a scheme this key can do, or a 400."""
    if hash_algo is not None and hash_algo != Oid.SHA256:
        raise InvalidRequest(
            "hashAlgo must be SHA-256 (2.16.840.1.101.3.4.2.1)", code="hash_algo_unsupported"
        )
    if sign_algo not in KEY_ALGORITHM_OIDS[key_algorithm]:
        raise InvalidRequest(
            "signAlgo is not one this credential's key supports", code="sign_algo_unsupported"
        )
    if sign_algo in {Oid.RSA, Oid.EC_PUBLIC_KEY} and hash_algo is None:
        raise InvalidRequest("hashAlgo is required with this signAlgo", code="hash_algo_required")
    if sign_algo == Oid.RSASSA_PSS:
        return SignatureScheme("pss", _pss_salt_length(params_der))
    if params_der:
        raise InvalidRequest("signAlgoParams is only for RSASSA-PSS", code="sign_algo_params_invalid")
    return SignatureScheme("ecdsa" if key_algorithm == KeyAlgorithm.EC_P256 else "pkcs1")


def _pss_salt_length(params_der: bytes | None) -> int:
    """RFC 4055 RSASSA-PSS-params, restricted to SHA-256 with MGF1-SHA-256 (the only digest we sign)."""
    if not params_der:
        raise InvalidRequest("RSASSA-PSS needs signAlgoParams", code="sign_algo_params_invalid")
    try:
        params = algos.RSASSAPSSParams.load(params_der)
        hash_name = params["hash_algorithm"]["algorithm"].native
        mgf = params["mask_gen_algorithm"]
        mgf_hash = mgf["parameters"]["algorithm"].native
        salt = int(params["salt_length"].native)
        trailer = params["trailer_field"].native
        valid = (
            hash_name == "sha256"
            and mgf["algorithm"].native == "mgf1"
            and mgf_hash == "sha256"
            and trailer == "trailer_field_bc"
            and 0 <= salt <= 222  # 2048-bit modulus: emLen 256 - hLen 32 - 2
        )
    except (ValueError, TypeError, KeyError):
        valid = False
    if not valid:
        raise InvalidRequest(
            "signAlgoParams must be RSASSA-PSS with SHA-256, MGF1-SHA-256 and a salt of at most 222 bytes",
            code="sign_algo_params_invalid",
        )
    return salt


def build_cms(
    certificate_der: bytes,
    key: SubscriberKey,
    data: bytes,
    issuing_certificate: x509.Certificate,
    *,
    detached: bool,
) -> bytes:
    """CMS SignedData (DER) over `data` with SHA-256, carrying the signer's and the issuing CA's
    certificates; detached leaves the content out."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    # Binary: sign the bytes as they are (no S/MIME canonicalisation); openssl cms -verify -binary.
    options = [pkcs7.PKCS7Options.Binary]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(certificate, key, hashes.SHA256())
        .add_certificate(issuing_certificate)
    )
    return builder.sign(serialization.Encoding.DER, options)
