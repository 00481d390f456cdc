"""OCSP (RFC 6960) building blocks: parse a request, tell whether it asks this CA, build the
signed answer. Pure functions over `cryptography`; storage, caching and HTTP are the caller's.

Choices that are not obvious:
- One single request per OCSPRequest. RFC 6960 allows a list, but every relying party sends one
  and answering several multiplies what a hostile client can make us sign. cryptography refuses
  to parse more than one anyway (NotImplementedError), which becomes `OcspMalformed` here.
- Either the issuing CA signs (RFC 6960 4.2.2.2: the CA that issued the certificate is an
  authorized responder; its certificate carries digitalSignature for this; no certificate is
  embedded, the relying party holds the CA), or a delegated responder does (`responder_certificate`:
  issued by that CA with id-kp-OCSPSigning, embedded in the response). The service uses the
  delegated one, whose key signs in memory (fincert.domain.revocation_status). The responder ID
  is byKey either way.
- The response's CertID uses the request's own hash algorithm (`add_response_by_hash`), so a
  SHA-1 request gets a SHA-1 CertID back: clients match responses to requests by CertID, and
  RFC 5019 clients still send SHA-1. The response itself is signed with SHA-256.
- The CertID hashes in a response are always computed from the CA's own certificate, never
  copied from the request: a CA saying "good" about a serial of another issuer would be a lie
  with our name on it. The responder answers `unauthorized` when `issued_by` is False.
- `unspecified` is never sent as a revocation reason: RFC 5280 5.3.1 says to omit reasonCode
  rather than use it, and the CRL and OCSP answers should say the same thing.
- Nonces (RFC 8954) longer than 32 octets are malformed: the RFC lets responders refuse them,
  and they would let a client choose a large part of what the CA signs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp

from fincert.crypto.ocsp_limits import MAX_NONCE_SIZE

ResponderKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
CertStatus = Literal["good", "revoked", "unknown"]


# CertID hash algorithms answered. SHA-1 is what RFC 5019 clients (and openssl's default) send;
# its collision weakness does not matter here, the CA's own name and key are hashed.
_CERT_ID_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

_CERT_STATUS = {
    "good": ocsp.OCSPCertStatus.GOOD,
    "revoked": ocsp.OCSPCertStatus.REVOKED,
    "unknown": ocsp.OCSPCertStatus.UNKNOWN,
}

# RFC 6960 4.2.1 OCSPResponseStatus names -> cryptography's enum.
UNSUCCESSFUL_STATUSES: Mapping[str, ocsp.OCSPResponseStatus] = {
    "malformedRequest": ocsp.OCSPResponseStatus.MALFORMED_REQUEST,
    "internalError": ocsp.OCSPResponseStatus.INTERNAL_ERROR,
    "tryLater": ocsp.OCSPResponseStatus.TRY_LATER,
    "sigRequired": ocsp.OCSPResponseStatus.SIG_REQUIRED,
    "unauthorized": ocsp.OCSPResponseStatus.UNAUTHORIZED,
}


class OcspMalformed(ValueError):
    """The request cannot be answered: the responder sends `unsuccessful("malformedRequest")`."""


@dataclass(frozen=True)
class OcspQuery:
    """A parsed request: the one CertID asked about (RFC 6960 4.1.1) and the nonce to echo."""

    serial_number: int
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    hash_algorithm: hashes.HashAlgorithm
    nonce: bytes | None = None


def _issuer_key_bits(issuer_certificate: x509.Certificate) -> bytes:
    """The issuer's subjectPublicKey BIT STRING contents (RFC 6960 4.1.1 issuerKeyHash input):
    the PKCS#1 RSAPublicKey or the uncompressed EC point, the same octets openssl hashes."""
    public_key = issuer_certificate.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    raise ValueError(f"unsupported issuer key type {type(public_key).__name__}")


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    return hashlib.new(algorithm.name, data).digest()


def issuer_hashes(
    issuer_certificate: x509.Certificate, hash_algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    """(issuerNameHash, issuerKeyHash) of this CA under a CertID hash algorithm."""
    if hash_algorithm.name not in _CERT_ID_HASHES:
        raise ValueError(f"unsupported CertID hash {hash_algorithm.name}")
    return (
        _digest(hash_algorithm, issuer_certificate.subject.public_bytes()),
        _digest(hash_algorithm, _issuer_key_bits(issuer_certificate)),
    )


def _hostile_input_error(error: BaseException) -> bool:
    # cryptography's Rust parser reports a bug as pyo3's PanicException, a BaseException: a
    # request that triggers one is still the client's malformed request, not a crash of ours.
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


def parse_request(der: bytes) -> OcspQuery:
    """Parses a DER OCSPRequest holding exactly one single request. The caller enforces
    MAX_REQUEST_SIZE first (before reading the whole body, ideally)."""
    if not isinstance(der, bytes | bytearray | memoryview):
        raise TypeError("an OCSP request is DER bytes")
    data = bytes(der)
    if not data:
        raise OcspMalformed("empty OCSP request")
    try:
        request = ocsp.load_der_ocsp_request(data)
        algorithm = request.hash_algorithm
        serial_number = request.serial_number
        name_hash = request.issuer_name_hash
        key_hash = request.issuer_key_hash
        nonce: bytes | None
        try:
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            nonce = None
    except BaseException as e:
        if not _hostile_input_error(e):
            raise
        raise OcspMalformed(f"unparseable OCSP request: {type(e).__name__}") from e
    if algorithm.name not in _CERT_ID_HASHES:
        raise OcspMalformed(f"unsupported CertID hash {algorithm.name}")
    if nonce is not None and not 1 <= len(nonce) <= MAX_NONCE_SIZE:
        raise OcspMalformed(f"nonce must be 1 to {MAX_NONCE_SIZE} octets")
    size = algorithm.digest_size
    if len(name_hash) != size or len(key_hash) != size:
        raise OcspMalformed(f"CertID hashes must be {size} octets for {algorithm.name}")
    return OcspQuery(
        serial_number=serial_number,
        issuer_name_hash=name_hash,
        issuer_key_hash=key_hash,
        hash_algorithm=algorithm,
        nonce=nonce,
    )


def issued_by(query: OcspQuery, issuer_certificate: x509.Certificate) -> bool:
    """True when the CertID names this CA (its name and key hashes under the CertID's own hash
    algorithm). False means the responder answers `unauthorized` (RFC 6960 2.3)."""
    try:
        name_hash, key_hash = issuer_hashes(issuer_certificate, query.hash_algorithm)
    except ValueError:
        return False
    # Both compared, whatever the first says (nothing secret here, but no reason to branch).
    name_ok = hmac.compare_digest(name_hash, query.issuer_name_hash)
    key_ok = hmac.compare_digest(key_hash, query.issuer_key_hash)
    return name_ok and key_ok


def _utc_second(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    # GeneralizedTime without fractions (RFC 5280 4.1.2.5.2 style, what clients expect).
    return value.astimezone(UTC).replace(microsecond=0)


def _reason(reason: x509.ReasonFlags | None) -> x509.ReasonFlags | None:
    if reason is None or reason is x509.ReasonFlags.unspecified:
        return None
    if not isinstance(reason, x509.ReasonFlags):
        raise TypeError("revocation_reason must be an x509.ReasonFlags or None")
    if reason is x509.ReasonFlags.remove_from_crl:
        # removeFromCRL only exists in delta CRLs (RFC 5280 5.3.1); an OCSP answer says "good".
        raise ValueError("removeFromCRL is not a revocation reason")
    return reason


def _check_delegation(responder: x509.Certificate, issuer: x509.Certificate) -> None:
    # RFC 6960 4.2.2.2: clients accept a delegated responder only when the CA that issued the
    # certificate in question issued it, with id-kp-OCSPSigning. Anything else is refused here,
    # not discovered by every relying party.
    try:
        responder.verify_directly_issued_by(issuer)
        eku = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (InvalidSignature, ValueError, TypeError, x509.ExtensionNotFound) as e:
        raise ValueError("the responder certificate is not issued by this CA") from e
    if x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
        raise ValueError("the responder certificate lacks id-kp-OCSPSigning")


def _verify(public_key: object, signature: bytes, data: bytes) -> None:
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise TypeError(f"unsupported responder key type {type(public_key).__name__}")


def build_response(
    *,
    issuer_certificate: x509.Certificate,
    responder_key: ResponderKey,
    serial_number: int,
    cert_id_hash: hashes.HashAlgorithm,
    status: CertStatus,
    this_update: datetime,
    next_update: datetime,
    revoked_at: datetime | None = None,
    revocation_reason: x509.ReasonFlags | None = None,
    nonce: bytes | None = None,
    responder_certificate: x509.Certificate | None = None,
) -> bytes:
    """A successful BasicOCSPResponse (DER) about one certificate, signed with SHA-256 by the
    issuing CA (`responder_key`, normally the KMS-backed key) and identified by key hash.

    The answer's CertID is `serial_number` under this CA's name and key hashes computed with
    `cert_id_hash`. For a request that `issued_by` accepted, pass `query.serial_number` and
    `query.hash_algorithm`: the CertID is then byte for byte the one asked about. (A response
    pre-signed before any request would use SHA-1, what RFC 5019 clients ask with.) Being computed from `issuer_certificate`, it can never vouch for a certificate
    of another issuer. `nonce` is echoed in the response extension (pass `query.nonce`; None for
    a response cached or pre-signed for every client).

    With `responder_certificate` (a delegated responder, RFC 6960 4.2.2.2: issued by this CA,
    with id-kp-OCSPSigning), `responder_key` is that certificate's key, the responder ID names
    it, and the certificate travels in the response so clients can check the delegation.
    """
    if isinstance(serial_number, bool) or not isinstance(serial_number, int):
        raise TypeError("serial_number must be an int")
    algorithm = cert_id_hash
    name_hash, key_hash = issuer_hashes(issuer_certificate, algorithm)
    signer = responder_certificate or issuer_certificate
    # Refuse before KMS is asked: a wrong key id would yield a response no client accepts.
    if responder_key.public_key() != signer.public_key():
        raise ValueError("the responder key does not match the responder's certificate")
    if responder_certificate is not None:
        _check_delegation(responder_certificate, issuer_certificate)
    if status not in _CERT_STATUS:
        raise ValueError(f"status must be one of {sorted(_CERT_STATUS)}")
    this = _utc_second(this_update, "this_update")
    nxt = _utc_second(next_update, "next_update")
    if nxt <= this:
        raise ValueError("next_update must be after this_update")
    if status == "revoked":
        if revoked_at is None:
            raise ValueError("a revoked status needs revoked_at")
        revoked = _utc_second(revoked_at, "revoked_at")
        if revoked > this:
            raise ValueError("revoked_at is after this_update")
        revocation_time: datetime | None = revoked
        reason = _reason(revocation_reason)
    else:
        if revoked_at is not None or revocation_reason is not None:
            raise ValueError("revoked_at and revocation_reason belong to a revoked status only")
        revocation_time, reason = None, None
    if nonce is not None and not 1 <= len(nonce) <= MAX_NONCE_SIZE:
        raise ValueError(f"nonce must be 1 to {MAX_NONCE_SIZE} octets")

    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=name_hash,
            issuer_key_hash=key_hash,
            serial_number=serial_number,
            algorithm=algorithm,
            cert_status=_CERT_STATUS[status],
            this_update=this,
            next_update=nxt,
            revocation_time=revocation_time,
            revocation_reason=reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, signer)
    )
    if responder_certificate is not None:
        builder = builder.certificates([responder_certificate])
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(bytes(nonce)), critical=False)
    response = builder.sign(responder_key, hashes.SHA256())
    # A KMS fault or a key id pointing at another key must not produce an answer every client
    # rejects (and that a cache would keep serving); checking is one local verification.
    try:
        _verify(signer.public_key(), response.signature, response.tbs_response_bytes)
    except InvalidSignature as e:
        raise ValueError("the responder key produced a signature that does not verify") from e
    return response.public_bytes(serialization.Encoding.DER)


def unsuccessful(status: str | ocsp.OCSPResponseStatus) -> bytes:
    """An unsigned error response (RFC 6960 4.2.1): "malformedRequest", "unauthorized",
    "internalError", "tryLater" (or "sigRequired"), by RFC name or cryptography's enum."""
    if isinstance(status, str):
        if status not in UNSUCCESSFUL_STATUSES:
            raise ValueError(f"status must be one of {sorted(UNSUCCESSFUL_STATUSES)}")
        status = UNSUCCESSFUL_STATUSES[status]
    if not isinstance(status, ocsp.OCSPResponseStatus) or status is ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise ValueError("an unsuccessful response needs an error status")
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)
