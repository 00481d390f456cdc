"""What a FinCert-style signing call asks for and gets, and the rules it is judged by before
any PIN is checked: sign types (names and FinCert's codes), formats, contents and their limits in
bytes. fincert.domain.signing signs; the API models and the window's tickets build these."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from fincert.domain.account_records import Credential
from fincert.errors import InvalidRequest

SHA256_LENGTH = 32


class SignType(StrEnum):
    """What a FinCert-style signature is for; recorded in the customer's history with its code."""

    LOGIN = "login"
    TRANSFER = "transfer"
    PRODUCT = "product"
    CONTRACT = "contract"
    PAYMENT = "payment"
    CERTIFICATE_ISSUANCE = "certificate_issuance"
    ASSET_LINKING = "asset_linking"
    AUTHENTICATOR_MANAGEMENT = "authenticator_management"
    OTHER = "other"

    @property
    def code(self) -> str:
        """KFTC FinCert's two-digit sign-type code (its SDK's signType)."""
        return SIGN_TYPE_CODES[self]

    @classmethod
    def parse(cls, value: str) -> SignType:
        """A name (`transfer`) or FinCert's code (`02`)."""
        if value in _SIGN_TYPES_BY_CODE:
            return _SIGN_TYPES_BY_CODE[value]
        try:
            return cls(value)
        except ValueError:
            raise InvalidRequest(
                "sign_type must be a sign-type name or FinCert's two-digit code", code="sign_type_invalid"
            ) from None


SIGN_TYPE_CODES: dict[SignType, str] = {
    SignType.LOGIN: "01",
    SignType.TRANSFER: "02",
    SignType.PRODUCT: "03",
    SignType.CONTRACT: "04",
    SignType.PAYMENT: "05",
    SignType.CERTIFICATE_ISSUANCE: "06",
    SignType.ASSET_LINKING: "07",
    SignType.AUTHENTICATOR_MANAGEMENT: "08",
    SignType.OTHER: "99",
}
_SIGN_TYPES_BY_CODE = {code: sign_type for sign_type, code in SIGN_TYPE_CODES.items()}


class SignatureFormat(StrEnum):
    CMS_ATTACHED = "cms_attached"
    CMS_DETACHED = "cms_detached"
    RAW = "raw"  # PKCS#1 v1.5 (RSA) or DER ECDSA-Sig-Value (EC) over SHA-256 of the content


# --- what a FinCert-style call signs ----------------------------------------------------------------
# Limits in bytes, because bytes are what is signed (8192 Hangul syllables would be 24 KiB).
MAX_CONTENTS = 10
MAX_CONTENT_BYTES = 8192
# All contents of one call together: the bank API's whole request body is 16 KiB, so this is what
# one request can carry at most anyway; other callers of sign_contents are held to the same.
MAX_TOTAL_CONTENT_BYTES = 16 * 1024


class ContentKind(StrEnum):
    TEXT = "text"  # UTF-8 text, as shown to the customer
    BINARY = "binary"  # bytes (a file)
    HASH = "hash"  # only the content's SHA-256 digest: cms_detached or raw only


@dataclass(frozen=True)
class SignContent:
    """One content to sign. `data` is the text's UTF-8 bytes, the binary's bytes, or, for a
    hash, the 32-byte SHA-256 digest. `name` is a binary content's file name: for showing it
    to the customer, never signed and never stored (a file name can carry personal data)."""

    kind: ContentKind
    data: bytes
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind is ContentKind.HASH:
            if len(self.data) != SHA256_LENGTH:
                raise InvalidRequest(
                    "a sha256 content is a 32-byte SHA-256 digest", code="content_sha256_invalid"
                )
        elif not self.data:
            raise InvalidRequest("a content must not be empty", code="content_empty")
        elif len(self.data) > MAX_CONTENT_BYTES:
            raise InvalidRequest(
                f"a content is at most {MAX_CONTENT_BYTES} bytes (text counted in UTF-8)",
                code="content_too_large",
                max_bytes=MAX_CONTENT_BYTES,
            )

    @classmethod
    def text(cls, text: str) -> SignContent:
        return cls(ContentKind.TEXT, text.encode("utf-8"))

    @classmethod
    def binary(cls, data: bytes, name: str | None = None) -> SignContent:
        return cls(ContentKind.BINARY, data, name)

    @classmethod
    def from_base64(cls, value: str, name: str | None = None) -> SignContent:
        """Binary content sent as standard base64 (with padding)."""
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest(
                "a base64 content must be standard base64", code="content_base64_invalid"
            ) from None
        return cls.binary(data, name)

    @classmethod
    def from_sha256(cls, value: str) -> SignContent:
        """A SHA-256 digest written as 64 hex digits or as base64 (44 characters)."""
        try:
            digest = (
                bytes.fromhex(value)
                if len(value) == 2 * SHA256_LENGTH
                else base64.b64decode(value, validate=True)
            )
        except (binascii.Error, ValueError):
            raise InvalidRequest(
                "a sha256 content is 64 hex digits or the base64 of 32 bytes", code="content_sha256_invalid"
            ) from None
        return cls(ContentKind.HASH, digest)

    @property
    def sha256(self) -> bytes:
        return self.data if self.kind is ContentKind.HASH else hashlib.sha256(self.data).digest()

    @property
    def size(self) -> int:
        """What the content counts against MAX_TOTAL_CONTENT_BYTES: its bytes (a hash, its digest)."""
        return len(self.data)


@dataclass(frozen=True)
class RawEvidence:
    """What a raw signature has no place for (a CMS carries both inside): the RFC 3161 token
    over the signature value and the OCSP response for the certificate at signing time."""

    timestamp_token: bytes
    ocsp_response: bytes


@dataclass(frozen=True)
class ContentSignatures:
    """One content's signatures: its SHA-256 and one signature per format asked, in that order;
    a raw signature's evidence beside it."""

    sha256: bytes
    signatures: dict[SignatureFormat, bytes]
    raw_evidence: RawEvidence | None = None


@dataclass(frozen=True)
class SignedContents:
    """What sign_contents made: per content, in the order given, its signatures."""

    credential: Credential
    sign_type: SignType
    formats: tuple[SignatureFormat, ...]
    contents: tuple[ContentSignatures, ...]


def check_sign_request(contents: Sequence[SignContent], formats: Sequence[SignatureFormat]) -> None:
    """What a FinCert-style call may ask, judged before the PIN (no attempt, no write, no KMS)."""
    if not 1 <= len(contents) <= MAX_CONTENTS:
        raise InvalidRequest(f"give 1 to {MAX_CONTENTS} contents", code="contents_count_invalid")
    total = sum(c.size for c in contents)
    if total > MAX_TOTAL_CONTENT_BYTES:
        raise InvalidRequest(
            f"the contents are at most {MAX_TOTAL_CONTENT_BYTES} bytes together",
            code="contents_too_large",
            max_bytes=MAX_TOTAL_CONTENT_BYTES,
        )
    if not formats or len(set(formats)) != len(formats):
        raise InvalidRequest("give one or more distinct formats", code="formats_invalid")
    if SignatureFormat.CMS_ATTACHED in formats:
        hash_indexes = [i for i, c in enumerate(contents) if c.kind is ContentKind.HASH]
        if hash_indexes:
            # An attached SignedData carries the content, and a digest is not the content.
            raise InvalidRequest(
                "a sha256 content can be signed as cms_detached or raw, not cms_attached",
                code="hash_content_not_attachable",
                contents=hash_indexes,
            )
