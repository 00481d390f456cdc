"""Request and response bodies of the verify call (`POST /v1/signatures/verify`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fincert.api.models import StrictModel
from fincert.api.schema import Field
from fincert.api.signing_models import MAX_CONTENT_BASE64_CHARS, MAX_SHA256_CHARS
from fincert.domain.sign_requests import MAX_CONTENT_BYTES, SignContent
from fincert.domain.verification import VerificationResult
from fincert.errors import InvalidRequest

# The verify call takes back what the sign call returned, which is larger than the other bodies
# (settings.max_body_bytes, 16 KiB): an attached CMS with an 8192-byte content, the signer's and
# the issuing CA's certificates, the time-stamp token with the TSA certificate and the OCSP answer
# with the responder's is ~16 KB of DER, ~22 K base64 characters; with the content beside it
# (JSON-escaped Hangul: up to 6 characters a syllable) and a certificate it stays under 64 KiB.
# The body limit is the real bound, checked before parsing (413); the field limits sit below it so
# that one oversized field is a 422 naming the field.
MAX_VERIFY_BODY_BYTES = 64 * 1024
MAX_SIGNATURE_CHARS = 32 * 1024
MAX_CERTIFICATE_CHARS = 8 * 1024
# A TimeStampToken with the TSA certificate is ~2.5 KB of DER.
MAX_TIMESTAMP_TOKEN_CHARS = 8 * 1024


class VerifySignatureRequest(StrictModel):
    signature: str = Field(
        min_length=1,
        max_length=MAX_SIGNATURE_CHARS,
        description=(
            "Base64, one `signature` of a POST /v1/signatures answer (with its `format`): DER CMS "
            "SignedData or the raw signature"
        ),
    )
    format: Literal["cms_attached", "cms_detached", "raw"] = "cms_attached"
    # What was signed, in one of three ways (at most one of them; one is required for
    # cms_detached and raw). For cms_attached it is optional and, if given, must match the
    # content the signature carries.
    content: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CONTENT_BYTES,
        description=f"The UTF-8 text that was signed (at most {MAX_CONTENT_BYTES} bytes in UTF-8)",
    )
    content_base64: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CONTENT_BASE64_CHARS,
        description=f"The bytes that were signed, standard base64 (at most {MAX_CONTENT_BYTES} bytes)",
    )
    content_sha256: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SHA256_CHARS,
        description=(
            "Only the SHA-256 of what was signed (64 hex digits, or base64): enough for a detached "
            "CMS (its messageDigest attribute is compared with it) and for a raw signature (which "
            "signs that digest)"
        ),
    )
    certificate_pem: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CERTIFICATE_CHARS,
        description="The signer's certificate (PEM, or base64 DER); required for raw",
    )
    timestamp_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TIMESTAMP_TOKEN_CHARS,
        description=(
            "The RFC 3161 TimeStampToken over the signature value (base64 DER): for raw, as the signing "
            "call returned it beside it; for a CMS without one of its own. The signature is then judged at "
            "its time (a CMS that carries one, as signatureTimeStampToken, may not be sent another)"
        ),
    )

    def signed_content(self) -> SignContent | None:
        """What the relying party holds of the signed content: judged before anything else is
        (400 content_conflict for two ways at once; the encodings' own codes)."""
        given = [v for v in (self.content, self.content_base64, self.content_sha256) if v is not None]
        if len(given) > 1:
            raise InvalidRequest(
                "give the content once: content, content_base64 or content_sha256", code="content_conflict"
            )
        if self.content is not None:
            return SignContent.text(self.content)
        if self.content_base64 is not None:
            return SignContent.from_base64(self.content_base64)
        if self.content_sha256 is not None:
            return SignContent.from_sha256(self.content_sha256)
        return None


class VerifySignatureResponse(StrictModel):
    valid: bool = Field(description="True only if every check below holds; `reasons` says why not")
    signature_valid: bool = Field(description="The signature value and the content digest hold")
    chain_valid: bool = Field(description="The certificate was issued by this service's issuing CA")
    certificate_status: Literal["good", "revoked", "suspended", "expired", "unknown"] = Field(
        description=(
            "Now (not at valid_at), in OCSP's words on purpose (not the valid/suspended/revoked/expired of the other "
            "answers): it judges any signer certificate, and `valid` above is the verdict on the whole "
            "signature; unknown for a certificate that is not this CA's"
        )
    )
    reasons: list[str] = Field(
        description=(
            "Stable codes, empty when valid: content_mismatch, message_digest_mismatch, signature_invalid, "
            "digest_algorithm_unsupported, signature_algorithm_unsupported, content_type_unsupported, "
            "signed_attributes_missing, content_type_attribute_missing|invalid, "
            "message_digest_attribute_missing|invalid, signing_time_attribute_invalid, "
            "certificate_not_issued_by_ca, certificate_not_for_signing, certificate_revoked, "
            "certificate_suspended, certificate_expired, certificate_status_unknown, "
            "certificate_not_yet_valid, signing_time_outside_validity, certificate_status_unavailable, "
            "timestamp_malformed, timestamp_mismatch, timestamp_not_trusted, timestamp_invalid"
        )
    )
    serial: str = Field(description="The signer certificate's serial number, lowercase hex")
    not_before: datetime
    not_after: datetime
    signing_time: datetime | None = Field(description="The CMS signing-time attribute; null for raw")
    revoked_at: datetime | None = Field(description="When it was revoked or suspended; null otherwise")
    revocation_reason: str | None = Field(
        description="RFC 5280 CRLReason name; certificateHold when suspended; null otherwise"
    )
    checked_at: datetime
    valid_at: datetime = Field(
        description=(
            "The time the signature was judged at: its RFC 3161 time-stamp (genTime) when it carries a "
            "good one, so a certificate revoked after it still gives valid=true; otherwise checked_at"
        )
    )
    timestamp_serial: str | None = Field(
        description="The serial of the time-stamp token valid_at comes from, lowercase hex; null without one"
    )

    @classmethod
    def from_domain(cls, result: VerificationResult) -> VerifySignatureResponse:
        return cls(
            valid=result.valid,
            signature_valid=result.signature_valid,
            chain_valid=result.chain_valid,
            certificate_status=result.certificate_status.value,
            reasons=list(result.reasons),
            serial=result.serial,
            not_before=result.not_before,
            not_after=result.not_after,
            signing_time=result.signing_time,
            revoked_at=result.revoked_at,
            revocation_reason=result.revocation_reason,
            checked_at=result.checked_at,
            valid_at=result.valid_at,
            timestamp_serial=result.timestamp_serial,
        )
