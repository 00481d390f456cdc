"""Talking to the time-stamping authority as an RFC 3161 client would: a TimeStampReq built with
asn1crypto (not with the service's own code), and the answer read back."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, core, parser, tsp

TIMESTAMP_QUERY = "application/timestamp-query"
TIMESTAMP_REPLY = "application/timestamp-reply"


def timestamp_request(
    data: bytes = b"a transfer of 10,000 won",
    *,
    algorithm: str = "sha256",
    nonce: int | None = None,
    cert_req: bool = True,
    policy: str | None = None,
    hashed_message: bytes | None = None,
    extensions: list[dict[str, Any]] | None = None,
) -> bytes:
    imprint = hashed_message if hashed_message is not None else hashlib.new(algorithm, data).digest()
    fields: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": imprint},
        "nonce": nonce if nonce is not None else secrets.randbits(64),
        "cert_req": cert_req,
    }
    if policy:
        fields["req_policy"] = policy
    if extensions:
        fields["extensions"] = extensions
    return tsp.TimeStampReq(fields).dump()


@dataclass(frozen=True)
class Reply:
    status: str
    failure: set[str]
    token: cms.ContentInfo | None

    @property
    def tst_info(self) -> tsp.TSTInfo:
        assert self.token is not None
        return self.token["content"]["encap_content_info"]["content"].parsed


def read_reply(der: bytes) -> Reply:
    """A TimeStampResp, read field by field (asn1crypto declares the token mandatory; a
    rejection has none)."""
    outer = core.Sequence.load(der, strict=True)
    parts = _children(outer.contents)
    status = tsp.PKIStatusInfo.load(parts[0])
    failure = status["fail_info"]
    token = cms.ContentInfo.load(parts[1]) if len(parts) > 1 else None
    return Reply(
        status=status["status"].native,
        failure=set() if isinstance(failure, core.Void) else set(failure.native),
        token=token,
    )


def _children(contents: bytes) -> list[bytes]:
    children, offset = [], 0
    while offset < len(contents):
        _, _, _, header, body, trailer = parser.parse(contents[offset:])
        length = len(header) + len(body) + len(trailer)
        children.append(contents[offset : offset + length])
        offset += length
    return children


def signature_value(cms_der: bytes) -> bytes:
    """The one signer's signature value: what a signature time-stamp's imprint covers."""
    return cms.ContentInfo.load(cms_der)["content"]["signer_infos"][0]["signature"].native


def with_signature_timestamp(cms_der: bytes, token_der: bytes) -> bytes:
    """The CMS with `token_der` as its signer's signatureTimeStampToken (RFC 3161 appendix A,
    CAdES-T): what a relying party that timestamps a signature on receipt would make of it."""
    info = cms.ContentInfo.load(cms_der)
    signer = info["content"]["signer_infos"][0]
    signer["unsigned_attrs"] = cms.CMSAttributes(
        [
            cms.CMSAttribute(
                {"type": "signature_time_stamp_token", "values": [cms.ContentInfo.load(token_der)]}
            )
        ]
    )
    return info.dump(force=False)


def without_evidence(cms_der: bytes) -> bytes:
    """The CMS without the time-stamp and the OCSP answer the signing call puts in it: the
    signature as it was before evidence (the signed part is untouched either way)."""
    info = cms.ContentInfo.load(cms_der)
    signed_data = info["content"]
    signed_data["signer_infos"][0]["unsigned_attrs"] = None
    signed_data["crls"] = None
    signed_data["version"] = "v1"
    return info.dump(force=False)
