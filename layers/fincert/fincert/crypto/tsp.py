"""RFC 3161 time-stamping: reading a TimeStampReq, building the TimeStampToken (CMS SignedData
over a TSTInfo) and the TimeStampResp around it. Pure functions: requests and responses are read
and written with asn1crypto (which has the TSP structures; `cryptography` has no TSP builder), the
token, made on every signing call, as DER by hand; the signature is made by the key object the
caller passes, in production a KMS-backed key (fincert.crypto.kms_keys), so no TSA key is ever
in memory and nothing here does I/O.

Choices that are not obvious:
- SHA-256, SHA-384 and SHA-512 imprints are accepted; the token itself is always signed with
  SHA-256 (the only digest the KMS key's algorithms pair with).
- The signed attributes carry ESS signingCertificateV2 (RFC 5816) naming the TSA certificate by
  its SHA-256 and issuer/serial: RFC 3161 2.4.2 requires a signingCertificate attribute, and
  `openssl ts -verify` refuses a token without one.
- A rejection is a TimeStampResp without a token. asn1crypto's TimeStampResp declares the token
  mandatory, so the rejection is written as SEQUENCE { PKIStatusInfo } by hand.
- genTime is whole seconds and the accuracy says +-1 s: the clock is NTP-disciplined (Lambda's
  Amazon Time Sync) far better than that, and a second is what relying parties compare with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import cms, core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from fincert.crypto import der

# What asn1crypto may raise on hostile input while it lazily parses: all mean "malformed".
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)

SHA256_OID = "2.16.840.1.101.3.4.2.1"
# Message imprint algorithms accepted, by OID, with their digest length.
IMPRINT_ALGORITHMS: dict[str, tuple[str, int]] = {
    "2.16.840.1.101.3.4.2.1": ("sha256", 32),
    "2.16.840.1.101.3.4.2.2": ("sha384", 48),
    "2.16.840.1.101.3.4.2.3": ("sha512", 64),
}
# A nonce is an INTEGER of any size in the ASN.1; RFC 3161 suggests 64 bits. More than 256 bits
# is no nonce, only a way to make us echo bytes.
MAX_NONCE_BITS = 256
ACCURACY_SECONDS = 1

# The PKIFailureInfo bits RFC 3161 2.4.2 defines (asn1crypto's names).
FailureInfo = str  # "bad_alg" | "bad_request" | "bad_data_format" | "unaccepted_policy" | ...


class TimestampRefused(ValueError):
    """A request the TSA answers with status rejection: `failure` is the PKIFailureInfo bit."""

    def __init__(self, failure: FailureInfo, message: str):
        super().__init__(message)
        self.failure = failure
        self.message = message


@dataclass(frozen=True)
class TimestampQuery:
    hash_algorithm: str  # asn1crypto's name: sha256, sha384, sha512
    hash_oid: str
    hashed_message: bytes
    nonce: int | None
    cert_req: bool
    policy: str | None


def parse_request(der: bytes) -> TimestampQuery:
    """A TimeStampReq (RFC 3161 2.4.1), or TimestampRefused with the failure bit to answer."""
    try:
        request = tsp.TimeStampReq.load(der, strict=True)
        version = request["version"].native
        imprint = request["message_imprint"]
        hash_oid = imprint["hash_algorithm"]["algorithm"].dotted
        parameters = imprint["hash_algorithm"]["parameters"]
        hashed_message = imprint["hashed_message"].native
        policy = request["req_policy"]
        nonce = request["nonce"]
        cert_req = bool(request["cert_req"].native)
        extensions = request["extensions"]
        has_extensions = not isinstance(extensions, core.Void) and len(extensions) > 0
        policy_oid = None if isinstance(policy, core.Void) else policy.dotted
        nonce_value = None if isinstance(nonce, core.Void) else int(nonce.native)
    except _PARSE_ERRORS:
        raise TimestampRefused("bad_data_format", "the request is not a DER TimeStampReq") from None
    if version != "v1":
        raise TimestampRefused("bad_data_format", "the request's version must be 1")
    if hash_oid not in IMPRINT_ALGORITHMS or not isinstance(parameters, core.Void | core.Null):
        raise TimestampRefused("bad_alg", "the message imprint must be SHA-256, SHA-384 or SHA-512")
    name, length = IMPRINT_ALGORITHMS[hash_oid]
    if not isinstance(hashed_message, bytes) or len(hashed_message) != length:
        raise TimestampRefused("bad_data_format", f"a {name} message imprint is {length} bytes")
    if nonce_value is not None and abs(nonce_value).bit_length() > MAX_NONCE_BITS:
        raise TimestampRefused("bad_data_format", f"the nonce must fit in {MAX_NONCE_BITS} bits")
    if has_extensions:
        raise TimestampRefused("unaccepted_extensions", "this TSA accepts no request extensions")
    return TimestampQuery(name, hash_oid, hashed_message, nonce_value, cert_req, policy_oid)


def _sign(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def build_token(
    *,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    tsa_certificate: x509.Certificate,
    query: TimestampQuery,
    policy_oid: str,
    serial_number: int,
    gen_time: datetime,
) -> bytes:
    """The TimeStampToken (RFC 3161 2.4.2): DER ContentInfo of a SignedData over the TSTInfo,
    signed by `key` (one call to key.sign). The TSA certificate is included when the request
    asked for it (certReq).

    Written as DER directly (fincert.crypto.der), field for field what asn1crypto wrote from
    the same values before (a unit test compares them byte for byte): the structure is fixed, and
    asn1crypto took ~10 ms of CPU per token, the largest part of a signing call."""
    if gen_time.tzinfo is None:
        raise ValueError("gen_time must be timezone-aware")
    certificate_der = tsa_certificate.public_bytes(Encoding.DER)
    subject = tsa_certificate.subject.public_bytes()
    issuer = tsa_certificate.issuer.public_bytes()
    certificate_serial = der.integer(tsa_certificate.serial_number)
    tst_info = der.tlv(
        der.SEQUENCE,
        _VERSION_1,
        der.object_identifier(policy_oid),
        der.tlv(  # messageImprint
            der.SEQUENCE,
            der.tlv(der.SEQUENCE, der.object_identifier(query.hash_oid), _NULL),
            der.tlv(der.OCTET_STRING, query.hashed_message),
        ),
        der.integer(serial_number),
        der.tlv(der.GENERALIZED_TIME, gen_time.astimezone(UTC).strftime("%Y%m%d%H%M%SZ").encode()),
        _ACCURACY,
        der.integer(query.nonce) if query.nonce is not None else b"",
        der.tlv(der.CONTEXT_0, der.tlv(der.CONTEXT_4, subject)),  # tsa: directoryName
    )
    signing_certificate = der.tlv(  # SigningCertificateV2 (RFC 5035): certs, one ESSCertIDv2
        der.SEQUENCE,
        der.tlv(
            der.SEQUENCE,
            der.tlv(
                der.SEQUENCE,  # hashAlgorithm left out: SHA-256 is its DEFAULT
                der.tlv(der.OCTET_STRING, hashlib.sha256(certificate_der).digest()),
                der.tlv(
                    der.SEQUENCE, der.tlv(der.SEQUENCE, der.tlv(der.CONTEXT_4, issuer)), certificate_serial
                ),
            ),
        ),
    )
    # A SET OF in DER is sorted by encoding (X.690 11.6).
    attributes = b"".join(
        sorted(
            (
                _CONTENT_TYPE_TST_INFO_ATTRIBUTE,
                der.tlv(
                    der.SEQUENCE,
                    _MESSAGE_DIGEST_OID,
                    der.tlv(der.SET, der.tlv(der.OCTET_STRING, hashlib.sha256(tst_info).digest())),
                ),
                der.tlv(der.SEQUENCE, _SIGNING_CERTIFICATE_V2_OID, der.tlv(der.SET, signing_certificate)),
            )
        )
    )
    # RFC 5652 5.4: the signature covers the attributes as a SET OF; they travel as [0] IMPLICIT.
    signature = _sign(key, der.tlv(der.SET, attributes))
    signer_info = der.tlv(
        der.SEQUENCE,
        _VERSION_1,
        der.tlv(der.SEQUENCE, issuer, certificate_serial),  # issuerAndSerialNumber
        _SHA256_ALGORITHM,
        der.tlv(der.CONTEXT_0, attributes),
        _RSA_ALGORITHM if isinstance(key, rsa.RSAPrivateKey) else _ECDSA_SHA256_ALGORITHM,
        der.tlv(der.OCTET_STRING, signature),
    )
    signed_data = der.tlv(
        der.SEQUENCE,
        _VERSION_3,  # the encapsulated content is not id-data (RFC 5652 5.1)
        der.tlv(der.SET, _SHA256_ALGORITHM),
        der.tlv(der.SEQUENCE, _ID_CT_TST_INFO, der.tlv(der.CONTEXT_0, der.tlv(der.OCTET_STRING, tst_info))),
        der.tlv(der.CONTEXT_0, certificate_der) if query.cert_req else b"",
        der.tlv(der.SET, signer_info),
    )
    return der.tlv(der.SEQUENCE, _ID_SIGNED_DATA, der.tlv(der.CONTEXT_0, signed_data))


_VERSION_1 = der.integer(1)
_VERSION_3 = der.integer(3)
_NULL = der.tlv(der.NULL)
_ACCURACY = der.tlv(der.SEQUENCE, der.integer(ACCURACY_SECONDS))
_ID_SIGNED_DATA = der.object_identifier("1.2.840.113549.1.7.2")
_ID_CT_TST_INFO = der.object_identifier("1.2.840.113549.1.9.16.1.4")
_MESSAGE_DIGEST_OID = der.object_identifier("1.2.840.113549.1.9.4")
_SIGNING_CERTIFICATE_V2_OID = der.object_identifier("1.2.840.113549.1.9.16.2.47")
_CONTENT_TYPE_TST_INFO_ATTRIBUTE = der.tlv(
    der.SEQUENCE, der.object_identifier("1.2.840.113549.1.9.3"), der.tlv(der.SET, _ID_CT_TST_INFO)
)
# AlgorithmIdentifiers as asn1crypto wrote them here: SHA-256 and rsaEncryption with NULL
# parameters, ecdsa-with-SHA256 without (RFC 5754 3.2, 3.3).
_SHA256_ALGORITHM = der.tlv(der.SEQUENCE, der.object_identifier(SHA256_OID), _NULL)
_RSA_ALGORITHM = der.tlv(der.SEQUENCE, der.object_identifier("1.2.840.113549.1.1.1"), _NULL)
_ECDSA_SHA256_ALGORITHM = der.tlv(der.SEQUENCE, der.object_identifier("1.2.840.10045.4.3.2"))


def granted(token: bytes) -> bytes:
    """TimeStampResp with status granted and the token."""
    return tsp.TimeStampResp(
        {"status": {"status": "granted"}, "time_stamp_token": cms.ContentInfo.load(token)}
    ).dump()


def rejection(failure: FailureInfo, message: str) -> bytes:
    """TimeStampResp with status rejection, the failure bit and a text, and no token."""
    status = tsp.PKIStatusInfo(
        {"status": "rejection", "status_string": [message], "fail_info": tsp.PKIFailureInfo({failure})}
    )
    return der.tlv(der.SEQUENCE, status.dump())


def tsa_of_token(token: bytes) -> tuple[int, datetime, bytes]:
    """(serial, genTime, the message imprint) of a token this module built: what the ledger
    records and what a CAdES-T check compares."""
    info = _tst_info(cms.ContentInfo.load(token))
    return (
        int(info["serial_number"].native),
        info["gen_time"].native,
        info["message_imprint"]["hashed_message"].native,
    )


def _tst_info(content_info: cms.ContentInfo) -> tsp.TSTInfo:
    signed_data = content_info["content"]
    return signed_data["encap_content_info"]["content"].parsed
