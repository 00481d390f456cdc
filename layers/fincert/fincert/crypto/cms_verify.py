"""Checking a FinCert-style signature as a relying party would: CMS SignedData (RFC 5652) or a raw
PKCS#1 v1.5 / ECDSA signature, and whether its certificate was issued by our issuing CA. Pure
functions over `cryptography` and `asn1crypto`; the certificate's status and the clock are the
caller's (fincert.domain.verification).

Two kinds of "no", kept apart on purpose:
- `SignatureMalformed`: we cannot even say what was signed by whom (not DER, not SignedData,
  several signers, no signer certificate). The caller answers 400 with the error's code.
- `SignatureCheck.problems`: a well-formed signature that does not hold (wrong digest, bad
  signature value, an algorithm we do not accept). That is an answer, not a bad request.

Choices that are not obvious:
- Signed attributes are required. RFC 5652 5.3 lets a signer omit them for id-data, but then
  there is no contentType or signing time to rely on, and every signature this service makes
  has them; a FinCert signature without them is not one of ours.
- SHA-256 only, as the signing side (fincert.domain.signing) uses: a weaker digest is a
  "no", not something to negotiate.
- The signature is checked over the DER of the signed attributes with their [0] IMPLICIT tag
  replaced by the SET OF tag (RFC 5652 5.4), using the bytes as received: re-encoding them
  would hide a signer that sorted the SET differently and make a valid signature fail.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import algos, cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

# What asn1crypto may raise on hostile input while it lazily parses: all mean "malformed".
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)
# What `cryptography` raises for a certificate it cannot load (InvalidVersion is no ValueError).
_CERTIFICATE_ERRORS = (ValueError, x509.InvalidVersion)

# The SET OF tag (universal, constructed, 17) that replaces [0] IMPLICIT (0xA0), RFC 5652 5.4.
_SET_OF_TAG = b"\x31"
_IMPLICIT_0_TAG = 0xA0
# id-aa-signatureTimeStampToken (RFC 3161 appendix A): an unsigned attribute of the SignerInfo
# holding a TimeStampToken over the signature value.
SIGNATURE_TIME_STAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"  # noqa: S105  (an OID, not a secret)


def _absent(value: object) -> bool:
    """An OPTIONAL field that is not there (asn1crypto gives a Void for it)."""
    return isinstance(value, core.Void)


class SignatureMalformed(ValueError):
    """The input cannot be judged at all; `code` is the stable error code of the 400."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SignatureCheck:
    """What the signature itself says: who signed (the certificate), what (the content, when
    known: an attached SignedData's or the one given; None when only its digest was), when
    (the signing-time attribute, if any), and what is wrong with it (stable codes; none = the
    signature value and digests hold)."""

    certificate: x509.Certificate
    content: bytes | None
    signing_time: datetime | None
    problems: tuple[str, ...]
    # The signature value (what a signature time-stamp token's imprint covers), and the DER token
    # of the CMS signer's signatureTimeStampToken unsigned attribute (CAdES-T), if it has one.
    signature_value: bytes = b""
    timestamp_token: bytes | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


# --- inputs ------------------------------------------------------------------------------------


def decode_base64(value: str, *, code: str, what: str) -> bytes:
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureMalformed(code, f"{what} is not base64") from None
    if not decoded:
        raise SignatureMalformed(code, f"{what} is empty")
    return decoded


def load_certificate(text: str) -> x509.Certificate:
    """A certificate given as PEM or as base64 DER (what banks store, either way)."""
    try:
        if "-----BEGIN" in text:
            return x509.load_pem_x509_certificate(text.encode())
        return x509.load_der_x509_certificate(
            decode_base64(text, code="malformed_certificate", what="the certificate")
        )
    except _CERTIFICATE_ERRORS:
        raise SignatureMalformed(
            "malformed_certificate", "the certificate is not a PEM or DER X.509 certificate"
        ) from None


# --- CMS SignedData ----------------------------------------------------------------------------


def verify_cms(
    der: bytes, content: bytes | None, *, detached: bool, content_sha256: bytes | None = None
) -> SignatureCheck:
    """Checks DER SignedData with exactly one signer. `detached`: the SignedData must not carry
    the content, and `content` is what was signed, or `content_sha256` its SHA-256 digest (the
    messageDigest attribute is all that binds a detached signature to its content, so the digest
    is as good as the bytes). Otherwise it carries the content, and `content` or
    `content_sha256`, if given, must be those bytes or their digest ("content_mismatch")."""
    if content is not None and content_sha256 is not None:
        raise ValueError("give the content or its digest, not both")
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise SignatureMalformed("malformed_signature", "the CMS content is not SignedData")
        # Not `.native` on the whole SignedData: asn1crypto re-serialises nested structures over
        # and over for it, ~3.6 s of CPU for a 6 KB signature carrying its time-stamp token and OCSP
        # answer (growing faster than the size), which any API-key holder could send in a loop.
        # Fields are parsed as they are read, inside the try below that maps a malformation to
        # malformed_signature (tests/integration/test_signature_verification.py mutates every part).
        signed_data = info["content"]
    except SignatureMalformed:
        raise
    except _PARSE_ERRORS:
        raise SignatureMalformed("malformed_signature", "the signature is not DER CMS SignedData") from None

    try:
        return _check_signed_data(signed_data, content, content_sha256, detached=detached)
    except SignatureMalformed:
        raise
    except _PARSE_ERRORS:
        raise SignatureMalformed("malformed_signature", "the CMS SignedData is not well formed") from None


def _check_signed_data(
    signed_data: cms.SignedData, content: bytes | None, content_sha256: bytes | None, *, detached: bool
) -> SignatureCheck:
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        # Several signers would need a policy for "valid" (all? any?) that nobody asked for.
        raise SignatureMalformed("malformed_signature", "the SignedData must have exactly one signer")
    signer = signer_infos[0]
    encapsulated = signed_data["encap_content_info"]
    embedded = None if _absent(encapsulated["content"]) else encapsulated["content"].native
    if detached and embedded is not None:
        raise SignatureMalformed(
            "format_mismatch", "cms_detached was given, but the SignedData carries its content"
        )
    if not detached and embedded is None:
        raise SignatureMalformed(
            "format_mismatch", "cms_attached was given, but the SignedData carries no content"
        )
    if detached and content is None and content_sha256 is None:
        raise SignatureMalformed("content_required", "a detached signature needs the content it signs")
    if embedded is not None and not isinstance(embedded, bytes):
        raise SignatureMalformed("malformed_signature", "the encapsulated content is not an OCTET STRING")
    # None only when detached and given the digest alone.
    signed_content: bytes | None = embedded if embedded is not None else content
    signed_digest = hashlib.sha256(signed_content).digest() if signed_content is not None else content_sha256
    certificate = _signer_certificate(signed_data, signer)
    signature_value: bytes = signer["signature"].native
    token = _timestamp_token(signer)

    problems: list[str] = []
    if embedded is not None and content is not None and content != embedded:
        problems.append("content_mismatch")
    if embedded is not None and content_sha256 is not None and content_sha256 != signed_digest:
        problems.append("content_mismatch")
    if encapsulated["content_type"].native != "data":
        problems.append("content_type_unsupported")
    if signer["digest_algorithm"]["algorithm"].native != "sha256":
        problems.append("digest_algorithm_unsupported")
        return SignatureCheck(certificate, signed_content, None, tuple(problems), signature_value, token)

    signed_attrs = signer["signed_attrs"]
    if _absent(signed_attrs) or len(signed_attrs) == 0:
        problems.append("signed_attributes_missing")
        return SignatureCheck(certificate, signed_content, None, tuple(problems), signature_value, token)
    attributes, signing_time, attribute_problems = _signed_attributes(signed_attrs)
    problems += attribute_problems
    content_type = attributes.get("content_type")
    if content_type is not None and content_type != encapsulated["content_type"].native:
        problems.append("content_type_attribute_invalid")  # RFC 5652 11.1: must match eContentType
    digest = attributes.get("message_digest")
    if digest is not None and digest != signed_digest:
        problems.append("message_digest_mismatch")

    to_be_signed = signed_attrs.dump()
    if to_be_signed[0] != _IMPLICIT_0_TAG:
        raise SignatureMalformed("malformed_signature", "the signed attributes are not [0] IMPLICIT")
    problems += _signature_problems(
        _public_key(certificate),
        signer["signature_algorithm"],
        signer["signature"].native,
        _SET_OF_TAG + to_be_signed[1:],
    )
    return SignatureCheck(certificate, signed_content, signing_time, tuple(problems), signature_value, token)


def _timestamp_token(signer: cms.SignerInfo) -> bytes | None:
    """The DER of the signer's signatureTimeStampToken (RFC 3161 appendix A), if any; more than
    one token, or one attribute with several values, is not something we can judge."""
    unsigned = signer["unsigned_attrs"]
    if _absent(unsigned):
        return None
    tokens = [a for a in unsigned if a["type"].dotted == SIGNATURE_TIME_STAMP_TOKEN]
    if not tokens:
        return None
    if len(tokens) != 1 or len(tokens[0]["values"]) != 1:
        raise SignatureMalformed("malformed_timestamp", "the signer has more than one signature timestamp")
    return bytes(tokens[0]["values"][0].dump())


def _signer_certificate(signed_data: cms.SignedData, signer: cms.SignerInfo) -> x509.Certificate:
    """The certificate the SignerInfo names (issuerAndSerialNumber or subjectKeyIdentifier),
    from the SignedData's own certificates: a FinCert signature travels with its certificate."""
    sid = signer["sid"]
    certificates = signed_data["certificates"]
    candidates = [] if _absent(certificates) else [c.chosen for c in certificates if c.name == "certificate"]
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
        matches = [c for c in candidates if c.serial_number == serial and c.issuer == issuer]
    else:
        key_id = sid.chosen.native
        matches = [c for c in candidates if c.key_identifier == key_id]
    if len(matches) != 1:
        raise SignatureMalformed(
            "signer_certificate_missing", "the SignedData does not carry the signer's certificate (once)"
        )
    try:
        return x509.load_der_x509_certificate(matches[0].dump())
    except _CERTIFICATE_ERRORS:
        raise SignatureMalformed(
            "malformed_signature", "the signer's certificate is not well formed"
        ) from None


def _signed_attributes(
    signed_attrs: cms.CMSAttributes,
) -> tuple[dict[str, object], datetime | None, list[str]]:
    """contentType and messageDigest (both required) and signingTime (optional), each present
    once with one value (RFC 5652 11.1-11.3); other attributes are signed over but not read."""
    single_valued = {"content_type", "message_digest", "signing_time"}
    found: dict[str, object] = {}
    problems: list[str] = []
    for attribute in signed_attrs:
        name = attribute["type"].native
        if name not in single_valued:
            continue
        values = attribute["values"].native
        if name in found or len(values) != 1:
            problems.append(f"{name}_attribute_invalid")
            continue
        found[name] = values[0]
    for required in ("content_type", "message_digest"):
        if required not in found and f"{required}_attribute_invalid" not in problems:
            problems.append(f"{required}_attribute_missing")
    signing_time = found.get("signing_time")
    return found, signing_time if isinstance(signing_time, datetime) else None, problems


def _signature_problems(
    public_key: object, algorithm: cms.SignedDigestAlgorithm, signature: bytes, data: bytes
) -> list[str]:
    name = algorithm["algorithm"].native
    try:
        if name in {"rsassa_pkcs1v15", "sha256_rsa"} and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif name == "rsassa_pss" and isinstance(public_key, rsa.RSAPublicKey):
            salt_length = _pss_salt_length(algorithm["parameters"])
            if salt_length is None:
                return ["signature_algorithm_unsupported"]
            public_key.verify(
                signature, data, padding.PSS(padding.MGF1(hashes.SHA256()), salt_length), hashes.SHA256()
            )
        elif name in {"sha256_ecdsa", "ecdsa"} and isinstance(public_key, ec.EllipticCurvePublicKey):
            # "ecdsa" is id-ecPublicKey: some signers name the key, the digest algorithm names SHA-256.
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return ["signature_algorithm_unsupported"]
    except (InvalidSignature, ValueError):
        return ["signature_invalid"]
    return []


def _pss_salt_length(params: object) -> int | None:
    """RFC 4055 RSASSA-PSS-params with SHA-256 and MGF1-SHA-256 (its defaults are SHA-1, refused)."""
    if not isinstance(params, algos.RSASSAPSSParams):
        return None
    try:
        mgf = params["mask_gen_algorithm"]
        if (
            params["hash_algorithm"]["algorithm"].native != "sha256"
            or mgf["algorithm"].native != "mgf1"
            or mgf["parameters"]["algorithm"].native != "sha256"
            or params["trailer_field"].native != "trailer_field_bc"
        ):
            return None
        return int(params["salt_length"].native)
    except _PARSE_ERRORS:
        return None


def _public_key(certificate: x509.Certificate) -> object | None:
    # A key on a curve or of a kind `cryptography` does not know: nothing we could verify with.
    try:
        return certificate.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return None


# --- raw signatures ----------------------------------------------------------------------------


def verify_raw(signature: bytes, certificate: x509.Certificate, content_sha256: bytes) -> SignatureCheck:
    """What the signing call's `raw` format makes: PKCS#1 v1.5 with SHA-256 (RSA keys) or a DER
    ECDSA-Sig-Value with SHA-256 (EC keys), over the content. Both sign the content's SHA-256
    digest and nothing else of it (PKCS#1 v1.5 wraps the digest in a DigestInfo; ECDSA signs
    it as a number), so the digest is all a check needs: whoever holds the content hashes it."""
    key = _public_key(certificate)
    prehashed = Prehashed(hashes.SHA256())
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, content_sha256, padding.PKCS1v15(), prehashed)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, content_sha256, ec.ECDSA(prehashed))
        else:
            return SignatureCheck(certificate, None, None, ("signature_algorithm_unsupported",), signature)
    except (InvalidSignature, ValueError):
        return SignatureCheck(certificate, None, None, ("signature_invalid",), signature)
    return SignatureCheck(certificate, None, None, (), signature)


# --- the certificate ---------------------------------------------------------------------------


def chain_problems(
    certificate: x509.Certificate, issuing_ca: x509.Certificate, subscriber_policy_oid: str
) -> tuple[str, ...]:
    """Whether `certificate` is a subscriber certificate of our issuing CA: the CA's signature
    over it and the issuer name (verify_directly_issued_by checks both), then the profile. The
    issuing CA also certifies the OCSP responder, whose key must not pass for a customer's: only
    subscriber certificates carry the certificate policy and non-CA signing key usage."""
    try:
        certificate.verify_directly_issued_by(issuing_ca)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return ("certificate_not_issued_by_ca",)
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
        key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        return ("certificate_not_for_signing",)
    subscriber = any(p.policy_identifier.dotted_string == subscriber_policy_oid for p in policies)
    if not subscriber or not (key_usage.digital_signature or key_usage.content_commitment):
        return ("certificate_not_for_signing",)
    return ()


# --- signature time-stamp tokens (RFC 3161, CAdES-T) -------------------------------------------


@dataclass(frozen=True)
class TimestampCheck:
    """What a signature's time-stamp token says: when (genTime) and by which TSA certificate's
    serial, and what is wrong with it (stable codes; none = it vouches for this signature value
    at that time)."""

    gen_time: datetime | None
    serial: int | None
    problems: tuple[str, ...]


_IMPRINT_ALGORITHMS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def check_timestamp_token(
    token: bytes,
    signature_value: bytes,
    tsa_certificates: Callable[[], Sequence[x509.Certificate]],
    issuing_ca: x509.Certificate,
) -> TimestampCheck:
    """Whether `token` is a TimeStampToken of a TSA our issuing CA certified (critical EKU
    id-kp-timeStamping only), signed over its TSTInfo, whose imprint is the hash of
    `signature_value`, made while the TSA certificate was valid. The TSA certificate comes from
    the token (certReq) or, when it carries none, from `tsa_certificates` (asked only then)."""
    try:
        info = cms.ContentInfo.load(token, strict=True)
        if info["content_type"].native != "signed_data":
            return TimestampCheck(None, None, ("timestamp_malformed",))
        signed_data = info["content"]
        encapsulated = signed_data["encap_content_info"]
        if encapsulated["content_type"].native != "tst_info" or len(signed_data["signer_infos"]) != 1:
            return TimestampCheck(None, None, ("timestamp_malformed",))
        tst_der = encapsulated["content"].contents
        tst_info = encapsulated["content"].parsed
        gen_time = tst_info["gen_time"].native
        serial = int(tst_info["serial_number"].native)
        imprint = tst_info["message_imprint"]
        imprint_algorithm = imprint["hash_algorithm"]["algorithm"].native
        hashed_message = imprint["hashed_message"].native
        signer = signed_data["signer_infos"][0]
        sid = signer["sid"]
        if sid.name != "issuer_and_serial_number":
            return TimestampCheck(gen_time, serial, ("timestamp_malformed",))
        embedded = [] if _absent(signed_data["certificates"]) else list(signed_data["certificates"])
        candidates = [c.dump() for c in embedded if c.name == "certificate"]
        sid_issuer = sid.chosen["issuer"].dump()  # bytes: dumped here, where a malformation is caught
        sid_serial = sid.chosen["serial_number"].native
        signed_attrs = signer["signed_attrs"]
        to_be_signed = None if _absent(signed_attrs) else signed_attrs.dump()
        attributes = (
            {} if _absent(signed_attrs) else {a["type"].native: a["values"].native for a in signed_attrs}
        )
        digest_algorithm = signer["digest_algorithm"]["algorithm"].native
        signature_algorithm = signer["signature_algorithm"]
        _ = signature_algorithm.native  # parsed here, where a malformation is caught, not when used
        signature = signer["signature"].native
    except _PARSE_ERRORS:
        return TimestampCheck(None, None, ("timestamp_malformed",))
    if not isinstance(gen_time, datetime):
        return TimestampCheck(None, None, ("timestamp_malformed",))

    problems: list[str] = []
    hash_function = _IMPRINT_ALGORITHMS.get(imprint_algorithm)
    if hash_function is None or hash_function(signature_value).digest() != hashed_message:
        problems.append("timestamp_mismatch")

    certificate = _tsa_certificate(candidates, sid_issuer, sid_serial) or next(
        (
            c
            for c in tsa_certificates()
            if c.serial_number == sid_serial and c.issuer.public_bytes() == sid_issuer
        ),
        None,
    )
    if certificate is None or not _is_our_tsa(certificate, issuing_ca):
        return TimestampCheck(gen_time, serial, (*problems, "timestamp_not_trusted"))
    if not certificate.not_valid_before_utc <= gen_time <= certificate.not_valid_after_utc:
        problems.append("timestamp_not_trusted")
    if (
        digest_algorithm != "sha256"
        or to_be_signed is None
        or to_be_signed[0] != _IMPLICIT_0_TAG
        or attributes.get("content_type") != ["tst_info"]
        or attributes.get("message_digest") != [hashlib.sha256(tst_der).digest()]
    ):
        return TimestampCheck(gen_time, serial, (*problems, "timestamp_invalid"))
    if _signature_problems(
        _public_key(certificate), signature_algorithm, signature, _SET_OF_TAG + to_be_signed[1:]
    ):
        problems.append("timestamp_invalid")
    return TimestampCheck(gen_time, serial, tuple(dict.fromkeys(problems)))


def _tsa_certificate(candidates: list[bytes], issuer: bytes, serial: int) -> x509.Certificate | None:
    for der in candidates:
        try:
            # cryptography parses a certificate's fields when they are read: a malformed issuer
            # raises here, not at load.
            certificate = x509.load_der_x509_certificate(der)
            if certificate.serial_number == serial and certificate.issuer.public_bytes() == issuer:
                return certificate
        except _CERTIFICATE_ERRORS:
            continue
    return None


def _is_our_tsa(certificate: x509.Certificate, issuing_ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuing_ca)
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm, x509.ExtensionNotFound):
        return False
    return eku.critical and list(eku.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]
