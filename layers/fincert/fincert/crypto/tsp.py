"""RFC 3161 time-stamping: reading a TimeStampReq, building the TimeStampToken (CMS SignedData
over a TSTInfo) and the TimeStampResp around it. Pure functions over asn1crypto (which has the
TSP structures; `cryptography` has no TSP builder); the signature is made by the key object the
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

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

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


def _signature_algorithm(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return "rsassa_pkcs1v15" if isinstance(key, rsa.RSAPrivateKey) else "sha256_ecdsa"


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
    asked for it (certReq)."""
    if gen_time.tzinfo is None:
        raise ValueError("gen_time must be timezone-aware")
    certificate = asn1_x509.Certificate.load(tsa_certificate.public_bytes(Encoding.DER))
    tst_info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": policy_oid,
            "message_imprint": {
                "hash_algorithm": {"algorithm": query.hash_algorithm},
                "hashed_message": query.hashed_message,
            },
            "serial_number": serial_number,
            "gen_time": gen_time.astimezone(UTC).replace(microsecond=0),
            "accuracy": {"seconds": ACCURACY_SECONDS},
            "nonce": query.nonce,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=certificate.subject),
        }
    )
    tst_der = tst_info.dump()
    signed_attributes = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]}),
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        {
                            "certs": [
                                {
                                    "cert_hash": hashlib.sha256(certificate.dump()).digest(),
                                    "issuer_serial": {
                                        "issuer": [
                                            asn1_x509.GeneralName(
                                                name="directory_name", value=certificate.issuer
                                            )
                                        ],
                                        "serial_number": certificate.serial_number,
                                    },
                                }
                            ]
                        }
                    ],
                }
            ),
        ]
    )
    # RFC 5652 5.4: the signature covers the attributes DER-encoded as a SET OF.
    signature = _sign(key, signed_attributes.dump())
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": certificate.issuer, "serial_number": certificate.serial_number},
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": signed_attributes,
            "signature_algorithm": {"algorithm": _signature_algorithm(key)},
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            # v3: the encapsulated content is not id-data (RFC 5652 5.1).
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "tst_info", "content": tst_info},
            "certificates": [certificate] if query.cert_req else None,
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


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
    body = status.dump()
    return b"\x30" + _der_length(len(body)) + body


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


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
