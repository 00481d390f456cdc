"""Making subscriber signatures: the schemes a CSC client may ask for (signAlgo, hashAlgo,
signAlgoParams) resolved against a key, signing a SHA-256 digest with one, and CMS SignedData
over content (or, detached, over its SHA-256 digest alone). Pure functions over `cryptography`
and `asn1crypto`; the key is decrypted by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from asn1crypto import algos
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

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


# What `cryptography`'s PKCS7SignatureBuilder puts in smimeCapabilities (AES-256, -192, -128 CBC),
# repeated so that a detached SignedData built from a digest has the very same shape as one built
# from the content.
_SMIME_CAPABILITIES = ("2.16.840.1.101.3.4.1.42", "2.16.840.1.101.3.4.1.22", "2.16.840.1.101.3.4.1.2")


def build_detached_cms_over_digest(
    certificate_der: bytes,
    key: SubscriberKey,
    digest: bytes,
    issuing_certificate: x509.Certificate,
    signing_time: datetime,
) -> bytes:
    """Detached CMS SignedData (DER) for content we only know by its SHA-256 `digest`: RFC 5652
    signs the signed attributes, and the content enters them only as the messageDigest
    attribute, so the digest is all a detached signature needs. The same structure, attribute
    for attribute, as build_cms(..., detached=True) over the content (a unit test compares
    them): a relying party cannot tell which one made it, and `openssl cms -verify -content`
    accepts it over the content."""
    # asn1crypto's cms and x509 modules are imported here, not at the top: the CSC function
    # imports this module and never builds CMS (its cold start should not pay for them).
    from asn1crypto import algos as asn1_algos
    from asn1crypto import cms, core
    from asn1crypto import x509 as asn1_x509

    if len(digest) != hashes.SHA256.digest_size:
        raise ValueError("a SHA-256 digest is 32 bytes")
    signer = asn1_x509.Certificate.load(certificate_der)
    attributes = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            # UTCTime, as RFC 5652 11.3 asks for dates from 1950 to 2049 (and cryptography writes).
            {"type": "signing_time", "values": [cms.Time({"utc_time": core.UTCTime(signing_time)})]},
            {"type": "message_digest", "values": [digest]},
            {"type": "smime_capabilities", "values": [[{"capability_id": c} for c in _SMIME_CAPABILITIES]]},
        ]
    )
    # Standalone, the attributes encode with the SET OF tag: what RFC 5652 5.4 says is signed.
    to_be_signed = attributes.dump()
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_be_signed, padding.PKCS1v15(), hashes.SHA256())
        algorithm = "rsassa_pkcs1v15"
    else:
        signature = key.sign(to_be_signed, ec.ECDSA(hashes.SHA256()))
        algorithm = "sha256_ecdsa"
    sha256 = asn1_algos.DigestAlgorithm({"algorithm": "sha256"})
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": signer.issuer, "serial_number": signer.serial_number}
                    )
                }
            ),
            "digest_algorithm": sha256,
            "signed_attrs": attributes,
            "signature_algorithm": asn1_algos.SignedDigestAlgorithm({"algorithm": algorithm}),
            "signature": signature,
        }
    )
    issuing = asn1_x509.Certificate.load(issuing_certificate.public_bytes(Encoding.DER))
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [sha256],
            "encap_content_info": {"content_type": "data"},
            "certificates": [signer, issuing],
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
