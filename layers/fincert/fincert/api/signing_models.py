"""Request and response bodies of FinCert-style signing (`POST /v1/signatures`), apart from the
other models: they bring in the signing code (fincert.domain.signing and its crypto), which the
functions that import fincert.api.models do not need."""

from __future__ import annotations

import base64
from typing import Literal

from fincert.api.models import StrictModel
from fincert.api.schema import Field
from fincert.crypto.der import pem
from fincert.domain.sign_requests import (
    MAX_CONTENT_BYTES,
    MAX_CONTENTS,
    MAX_TOTAL_CONTENT_BYTES,
    SIGN_TYPE_CODES,
    ContentSignatures,
    SignatureFormat,
    SignContent,
    SignedContents,
    SignType,
)
from fincert.errors import InvalidRequest

# The domain (fincert.domain.signing) holds the byte limits and says what is wrong with a content
# (400, a stable code); the schema's character limits are the bounds those imply, so a grossly
# oversized field is a 422 naming it.
SIGN_TYPE_NAMES = tuple(t.value for t in SignType)
SIGN_TYPE_CODE_VALUES = tuple(SIGN_TYPE_CODES.values())
SignTypeName = Literal[SIGN_TYPE_NAMES]  # type: ignore[valid-type]  # the domain's enum, which mypy cannot read as Literal values
SignTypeCode = Literal[SIGN_TYPE_CODE_VALUES]  # type: ignore[valid-type]  # as above
SignatureFormatName = Literal["cms_attached", "cms_detached", "raw"]
# 8192 bytes are at most 10924 base64 characters (4 per 3 bytes, padded).
MAX_CONTENT_BASE64_CHARS = 4 * -(-MAX_CONTENT_BYTES // 3)
MAX_SHA256_CHARS = 64  # hex; base64 is 44
_SHA256_DESCRIPTION = "SHA-256 digest of the content: 64 hex digits, or the base64 of its 32 bytes"


class TextContent(StrictModel):
    text: str = Field(
        min_length=1,
        max_length=MAX_CONTENT_BYTES,
        description=f"UTF-8 text to sign, as shown to the customer: at most {MAX_CONTENT_BYTES} bytes in UTF-8",
    )

    def to_domain(self) -> SignContent:
        return SignContent.text(self.text)


class BinaryContent(StrictModel):
    base64: str = Field(
        min_length=1,
        max_length=MAX_CONTENT_BASE64_CHARS,
        description=f"Bytes to sign (a file), standard base64 with padding: at most {MAX_CONTENT_BYTES} bytes",
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="The file name, for showing to the customer; neither signed nor stored",
    )

    def to_domain(self) -> SignContent:
        return SignContent.from_base64(self.base64, self.name)


class HashContent(StrictModel):
    sha256: str = Field(
        min_length=1,
        max_length=MAX_SHA256_CHARS,
        description=f"{_SHA256_DESCRIPTION}. Only with cms_detached or raw: an attached CMS carries the content",
    )

    def to_domain(self) -> SignContent:
        return SignContent.from_sha256(self.sha256)


SignContentItem = TextContent | BinaryContent | HashContent


def contents_to_domain(items: list[SignContentItem]) -> list[SignContent]:
    """The domain's contents, each one judged (400 with a stable code, `details.content` its index)."""
    contents = []
    for index, item in enumerate(items):
        try:
            contents.append(item.to_domain())
        except InvalidRequest as e:
            raise InvalidRequest(e.message, code=e.code, content=index, **e.details) from None
    return contents


class SignContentsRequest(StrictModel):
    contents: list[SignContentItem] = Field(
        min_length=1,
        max_length=MAX_CONTENTS,
        description=(
            f"1 to {MAX_CONTENTS} contents signed for one PIN entry, each UTF-8 text, bytes or a SHA-256 "
            f"hash; at most {MAX_CONTENT_BYTES} bytes each and {MAX_TOTAL_CONTENT_BYTES} bytes together"
        ),
    )
    sign_type: SignTypeName | SignTypeCode = Field(
        description=(
            "What the signature is for, by name or by FinCert's code: login 01, transfer 02, product 03, "
            "contract 04, payment 05, certificate_issuance 06, asset_linking 07, "
            "authenticator_management 08, other 99"
        )
    )
    formats: list[SignatureFormatName] = Field(
        default=["cms_attached"],
        min_length=1,
        max_length=3,
        description=(
            "The signatures to make of every content, distinct: CMS SignedData with the content "
            "(cms_attached) or without it (cms_detached), and/or raw PKCS#1 v1.5 (RSA) / ECDSA "
            "(EC) over SHA-256 (raw)"
        ),
    )
    pin: str = Field(min_length=1, max_length=16)
    credential_id: str | None = Field(default=None, max_length=64)


class FormatSignature(StrictModel):
    format: SignatureFormatName
    signature: str = Field(
        description=(
            "Base64: DER CMS SignedData, or the raw PKCS#1 v1.5 / ECDSA signature. A CMS carries its "
            "evidence inside: the RFC 3161 time-stamp token over its signature (signatureTimeStampToken "
            "unsigned attribute, CAdES-T) and the certificate's OCSP response at signing time (its "
            "revocation information, RFC 5940)"
        )
    )
    timestamp_token: str | None = Field(
        description="raw only: the RFC 3161 TimeStampToken over the signature value, base64 DER; null for CMS",
    )
    ocsp_response: str | None = Field(
        description="raw only: the OCSPResponse for the certificate at signing time, base64 DER; null for CMS",
    )


class ContentSignaturesResponse(StrictModel):
    content_sha256: str = Field(
        description="SHA-256 of the content (of its UTF-8 bytes for text), lowercase hex"
    )
    signatures: list[FormatSignature] = Field(description="One per format asked, in the order of `formats`")

    @classmethod
    def of(cls, signed: ContentSignatures) -> ContentSignaturesResponse:
        return cls(
            content_sha256=signed.sha256.hex(),
            signatures=[_format_signature(signed, f, s) for f, s in signed.signatures.items()],
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _format_signature(
    signed: ContentSignatures, signature_format: SignatureFormat, signature: bytes
) -> FormatSignature:
    evidence = signed.raw_evidence if signature_format == SignatureFormat.RAW else None
    return FormatSignature(
        format=signature_format.value,
        signature=_b64(signature),
        timestamp_token=_b64(evidence.timestamp_token) if evidence else None,
        ocsp_response=_b64(evidence.ocsp_response) if evidence else None,
    )


class SignContentsResponse(StrictModel):
    credential_id: str
    sign_type: SignTypeName
    sign_type_code: SignTypeCode
    formats: list[SignatureFormatName]
    contents: list[ContentSignaturesResponse] = Field(description="One per content, in the order sent")
    certificate_pem: str
    chain_pem: str = Field(description="PEM: the issuing CA's certificate, then the root CA's")

    @classmethod
    def of(cls, signed: SignedContents, chain_pem: str) -> SignContentsResponse:
        return cls(
            credential_id=signed.credential.credential_id,
            sign_type=signed.sign_type.value,
            sign_type_code=signed.sign_type.code,
            formats=[f.value for f in signed.formats],
            contents=[ContentSignaturesResponse.of(c) for c in signed.contents],
            certificate_pem=pem("CERTIFICATE", signed.credential.certificate_der),
            chain_pem=chain_pem,
        )
