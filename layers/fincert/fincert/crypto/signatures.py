"""Making subscriber signatures: the schemes a CSC client may ask for (signAlgo, hashAlgo,
signAlgoParams) resolved against a key, signing a SHA-256 digest with one, and CMS SignedData
over content (or, detached, over its SHA-256 digest alone). Pure functions over `cryptography`;
the key is decrypted by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from asn1crypto import algos
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from fincert.crypto.der import contents as _contents
from fincert.crypto.der import tlv as _der
from fincert.crypto.der import tlvs as _tlvs
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
    for attribute, as build_cms(..., detached=True) over the content (a unit test compares them
    byte for byte): a relying party cannot tell which one made it, and `openssl cms -verify
    -content` accepts it over the content.

    Written as DER directly: the structure is fixed, and asn1crypto, which could build it from
    dicts, costs ~1.5 ms of CPU per signature against ~0.05 ms here (a call may sign ten)."""
    if len(digest) != hashes.SHA256.digest_size:
        raise ValueError("a SHA-256 digest is 32 bytes")
    # UTCTime, as RFC 5652 11.3 asks for dates from 1950 to 2049 (and cryptography writes).
    utc_time = signing_time.astimezone(UTC).strftime("%y%m%d%H%M%SZ").encode()
    attributes = b"".join(
        (
            _CONTENT_TYPE_DATA_ATTRIBUTE,
            _der(_SEQUENCE, _SIGNING_TIME_OID, _der(_SET, _der(_UTC_TIME, utc_time))),
            _der(_SEQUENCE, _MESSAGE_DIGEST_OID, _der(_SET, _der(_OCTET_STRING, digest))),
            _SMIME_CAPABILITIES_ATTRIBUTE,
        )
    )
    # RFC 5652 5.4: the signature is over the attributes as a SET OF; they travel as [0] IMPLICIT.
    # Their order is DER's (by encoding; here by length, as the four have distinct lengths).
    to_be_signed = _der(_SET, attributes)
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_be_signed, padding.PKCS1v15(), hashes.SHA256())
        signature_algorithm = _RSA_ALGORITHM
    else:
        signature = key.sign(to_be_signed, ec.ECDSA(hashes.SHA256()))
        signature_algorithm = _ECDSA_SHA256_ALGORITHM
    signer = x509.load_der_x509_certificate(certificate_der)
    serial = signer.serial_number
    signer_info = _der(
        _SEQUENCE,
        _VERSION_1,
        _der(
            _SEQUENCE,  # issuerAndSerialNumber
            signer.issuer.public_bytes(),
            _der(_INTEGER, serial.to_bytes(serial.bit_length() // 8 + 1, "big")),
        ),
        _SHA256_ALGORITHM,
        _der(_CONTEXT_0, attributes),
        signature_algorithm,
        _der(_OCTET_STRING, signature),
    )
    signed_data = _der(
        _SEQUENCE,
        _VERSION_1,
        _der(_SET, _SHA256_ALGORITHM),
        _der(_SEQUENCE, _ID_DATA),  # encapContentInfo without eContent: detached
        # A SET OF in DER: the certificates in the order of their encodings (X.690 11.6).
        _der(_CONTEXT_0, *sorted((certificate_der, issuing_certificate.public_bytes(Encoding.DER)))),
        _der(_SET, signer_info),
    )
    return _der(_SEQUENCE, _ID_SIGNED_DATA, _der(_CONTEXT_0, signed_data))


_SEQUENCE, _SET, _INTEGER, _OCTET_STRING, _UTC_TIME, _CONTEXT_0 = 0x30, 0x31, 0x02, 0x04, 0x17, 0xA0
_VERSION_1 = bytes.fromhex("020101")
_VERSION_5 = bytes.fromhex("020105")
_ID_DATA = bytes.fromhex("06092a864886f70d010701")  # 1.2.840.113549.1.7.1
_ID_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")  # 1.2.840.113549.1.7.2
_SIGNING_TIME_OID = bytes.fromhex("06092a864886f70d010905")  # 1.2.840.113549.1.9.5
_MESSAGE_DIGEST_OID = bytes.fromhex("06092a864886f70d010904")  # 1.2.840.113549.1.9.4
# AlgorithmIdentifiers exactly as cryptography writes them: SHA-256 and rsaEncryption with NULL
# parameters, ecdsa-with-SHA256 without (RFC 5754 3.2, 3.3).
_SHA256_ALGORITHM = bytes.fromhex("300d06096086480165030402010500")
_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")
_ECDSA_SHA256_ALGORITHM = bytes.fromhex("300a06082a8648ce3d040302")
# contentType = id-data (1.2.840.113549.1.9.3), and the smimeCapabilities (1.2.840.113549.1.9.15:
# AES-256, AES-192, AES-128 CBC) cryptography's PKCS7SignatureBuilder adds: constant attributes.
_CONTENT_TYPE_DATA_ATTRIBUTE = bytes.fromhex("301806092a864886f70d010903310b06092a864886f70d010701")
_SMIME_CAPABILITIES_ATTRIBUTE = bytes.fromhex(
    "303606092a864886f70d01090f31293027300b060960864801650304012a"
    "300b0609608648016503040116300b0609608648016503040102"
)


# --- long-term validation evidence in the CMS (CAdES-T + RFC 5940) ------------------------------
# Spliced into the DER `cryptography` wrote, not re-encoded through asn1crypto: the structure is
# fixed, the bytes of everything signed stay as they are, and a call may carry thirty of them.

_CONTEXT_1 = 0xA1
# id-aa-signatureTimeStampToken (RFC 3161 appendix A) and id-ri-ocsp-response (RFC 5940 2.2).
_SIGNATURE_TIME_STAMP_TOKEN_OID = bytes.fromhex("060b2a864886f70d010910020e")
_ID_RI_OCSP_RESPONSE = bytes.fromhex("06082b06010505071002")


def _signed_data_parts(cms_der: bytes) -> list[bytes]:
    (content_info,) = _tlvs(cms_der)
    _, explicit = _tlvs(_contents(content_info))
    (signed_data,) = _tlvs(_contents(explicit))
    return _tlvs(_contents(signed_data))


def cms_signature_value(cms_der: bytes) -> bytes:
    """The one signer's signature value (what a signature time-stamp covers)."""
    (signer_info,) = _tlvs(_contents(_signed_data_parts(cms_der)[-1]))
    signature = [tlv for tlv in _tlvs(_contents(signer_info)) if tlv[0] == _OCTET_STRING]
    return _contents(signature[-1])


def add_evidence(cms_der: bytes, timestamp_token: bytes, ocsp_response: bytes) -> bytes:
    """The CMS SignedData with its signer's signature time-stamp token as the
    signatureTimeStampToken unsigned attribute (CAdES-T) and the OCSP response for its
    certificate in the SignedData's revocation information (RFC 5940: RevocationInfoChoice other,
    id-ri-ocsp-response). Neither is signed by the signer, so the signature stays valid."""
    parts = _signed_data_parts(cms_der)
    if any(tlv[0] == _CONTEXT_1 for tlv in parts):
        raise ValueError("the SignedData already carries revocation information")
    signer_infos = parts[-1]
    (signer_info,) = _tlvs(_contents(signer_infos))
    signer_fields = _tlvs(_contents(signer_info))
    if signer_fields[-1][0] == _CONTEXT_1:
        raise ValueError("the signer already has unsigned attributes")
    unsigned = _der(_CONTEXT_1, _der(_SEQUENCE, _SIGNATURE_TIME_STAMP_TOKEN_OID, _der(_SET, timestamp_token)))
    new_signer_infos = _der(_SET, _der(_SEQUENCE, *signer_fields, unsigned))
    crls = _der(_CONTEXT_1, _der(_CONTEXT_1, _ID_RI_OCSP_RESPONSE, ocsp_response))
    # RFC 5652 5.1: a SignedData with an `other` revocation choice is version 5 (not signed over).
    signed_data = _der(_SEQUENCE, _VERSION_5, *parts[1:-1], crls, new_signer_infos)
    return _der(_SEQUENCE, _ID_SIGNED_DATA, _der(_CONTEXT_0, signed_data))
