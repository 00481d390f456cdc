"""Request and response bodies of the verify call (`POST /v1/signatures/verify`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from fincert.api.models import SignedContent, StrictModel
from fincert.domain.verification import VerificationResult

# The body limit (settings.max_body_bytes, 16 KiB) is the real bound, checked before parsing
# (413); the field limits sit below it so that one oversized field is a 422 naming the field.
MAX_SIGNATURE_CHARS = 15 * 1024
MAX_CERTIFICATE_CHARS = 8 * 1024


class VerifySignatureRequest(StrictModel):
    signature: str = Field(
        min_length=1,
        max_length=MAX_SIGNATURE_CHARS,
        description="Base64, as POST /v1/signatures returned it: DER CMS SignedData or the raw signature",
    )
    format: Literal["cms_attached", "cms_detached", "raw"] = "cms_attached"
    content: SignedContent | None = Field(
        default=None,
        description=(
            "The UTF-8 text that was signed (at most 8192 bytes in UTF-8, as POST /v1/signatures "
            "takes). Required for cms_detached and raw; for cms_attached, optional and, if given, "
            "must equal the content the signature carries"
        ),
    )
    certificate_pem: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CERTIFICATE_CHARS,
        description="The signer's certificate (PEM, or base64 DER); required for raw",
    )


class VerifySignatureResponse(StrictModel):
    valid: bool = Field(description="True only if every check below holds; `reasons` says why not")
    signature_valid: bool = Field(description="The signature value and the content digest hold")
    chain_valid: bool = Field(description="The certificate was issued by this service's issuing CA")
    certificate_status: Literal["good", "revoked", "suspended", "expired", "unknown"] = Field(
        description="Now, as OCSP would answer; unknown for a certificate that is not this CA's"
    )
    reasons: list[str] = Field(
        description=(
            "Stable codes, empty when valid: content_mismatch, message_digest_mismatch, signature_invalid, "
            "digest_algorithm_unsupported, signature_algorithm_unsupported, content_type_unsupported, "
            "signed_attributes_missing, content_type_attribute_missing|invalid, "
            "message_digest_attribute_missing|invalid, signing_time_attribute_invalid, "
            "certificate_not_issued_by_ca, certificate_not_for_signing, certificate_revoked, "
            "certificate_suspended, certificate_expired, certificate_status_unknown, "
            "certificate_not_yet_valid, signing_time_outside_validity"
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
        )
