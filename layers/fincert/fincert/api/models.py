"""Request and response bodies of the bank API. Strict: unknown fields and wrong types are
refused (422) rather than coerced, so a client bug is seen at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from fincert.api.schema import BaseModel, ConfigDict, Field, SkipJsonSchema
from fincert.domain.account_records import CertificateState, Credential
from fincert.domain.device_records import Device
from fincert.domain.status_records import SUBSCRIBER_REVOCATION_REASONS

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

    from fincert.domain.accounts import HistoryPage, VerificationStarted


# defer_build: a model is built when first used (Powertools builds a route's validation on its
# first request), so a function pays only for the models of the routes it serves.
class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str = Field(description="Stable, machine-readable: clients branch on it")
    message: str
    # Truly optional: fincert.api.errors leaves it out when an error has no details (never null).
    details: dict[str, Any] | list[Any] | SkipJsonSchema[None] = None


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body (fincert.api.errors builds it)."""

    model_config = ConfigDict(defer_build=True)

    error: ErrorDetail


def error_responses(model: type[BaseModel], descriptions: Mapping[int, str]) -> dict[int, OpenAPIResponse]:
    """The OpenAPI `responses` of a route's error statuses, each with this error body model."""
    return {
        status: {"description": description, "content": {"application/json": {"model": model}}}
        for status, description in descriptions.items()
    }


ERROR_RESPONSES = error_responses(
    ErrorResponse,
    {
        400: "Bad request (malformed JSON, invalid value, wrong code, weak PIN)",
        401: "Missing or invalid credentials",
        403: "Credentials not allowed to do this",
        404: "Not found",
        409: "Conflicts with the current state",
        410: "Expired or exhausted",
        413: "Body too large",
        415: "Body is not JSON",
        422: "Body does not match the schema",
        429: "Rate limited",
        503: "A dependency is unavailable; retry after Retry-After seconds",
    },
)


# What every route that takes the customer's current PIN may answer besides its other errors
# (fincert.domain.pin_attempts), added to the route's error responses by with_pin_refusals.
_PIN_REFUSALS = {
    400: "`pin_invalid`: the PIN is wrong, and counted",
    403: (
        "`pin_locked`: 5 wrong PINs were judged, so even the right PIN is refused until the"
        " institution re-verifies the customer and the PIN is reset (or the certificate reissued)"
    ),
    409: (
        "`pin_attempt_in_flight`: all 5 PIN attempts the count allows are taken by attempts still"
        " being checked; this one was not checked and used none: retry after Retry-After seconds"
    ),
}


def with_pin_refusals(
    responses: Mapping[int, OpenAPIResponse], *, details: bool = True
) -> dict[int, OpenAPIResponse]:
    """A PIN-taking route's error responses: `responses` with the PIN refusals described
    (details: the error shape carries `details`, which CSC's does not)."""
    described: dict[int, OpenAPIResponse] = dict(responses)
    for status, refusal in _PIN_REFUSALS.items():
        if status == 400 and details:
            refusal += " (`details.remaining_attempts`: how many are left)"
        described[status] = {
            **responses[status],
            "description": f"{responses[status]['description']}; {refusal}",
        }
    described[409]["headers"] = {
        "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
    }
    return described


PIN_ERROR_RESPONSES = with_pin_refusals(ERROR_RESPONSES)


class IdentityRequest(StrictModel):
    """The customer as the bank verified them; the service texts them a code."""

    name: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=10, max_length=20, description="Korean mobile number")
    birth_date: str = Field(min_length=8, max_length=8, description="YYYYMMDD")


class VerificationStartedResponse(StrictModel):
    verification_id: str
    expires_at: datetime
    attempts_allowed: int

    @classmethod
    def of(cls, started: VerificationStarted) -> VerificationStartedResponse:
        return cls(
            verification_id=started.verification_id,
            expires_at=started.expires_at,
            attempts_allowed=started.attempts_allowed,
        )


class SmsCodeRequest(StrictModel):
    sms_code: str = Field(pattern=r"^[0-9]{6}$")


class SessionResponse(StrictModel):
    session_token: str = Field(description="Bearer token of the customer's session with this institution")
    expires_at: datetime
    institution_registered: bool = Field(
        description="Whether the certificate is registered with this institution (otherwise register it first)"
    )


class PinResetConfirmRequest(StrictModel):
    sms_code: str = Field(pattern=r"^[0-9]{6}$")
    new_pin: str = Field(min_length=1, max_length=16)


class PinRequest(StrictModel):
    pin: str = Field(min_length=1, max_length=16, description="The customer's 6-digit PIN")


class PinChangeRequest(StrictModel):
    pin: str = Field(min_length=1, max_length=16, description="The current PIN")
    new_pin: str = Field(min_length=1, max_length=16)


class DeviceRegisterRequest(StrictModel):
    name: str = Field(min_length=1, max_length=64, description="What the customer calls the device")
    public_key: str = Field(
        min_length=1, max_length=512, description="Base64 DER SubjectPublicKeyInfo of the device's P-256 key"
    )


class DeviceResponse(StrictModel):
    device_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="Null until the device first connects")

    @classmethod
    def of(cls, device: Device) -> DeviceResponse:
        return cls(
            device_id=device.device_id,
            name=device.name,
            created_at=device.created_at,
            last_used_at=device.last_used_at,
        )


class DeviceRegisteredResponse(DeviceResponse):
    device_handle: str = Field(description="What the device sends to connect later (not a secret)")


class DeviceListResponse(StrictModel):
    devices: list[DeviceResponse]


class DeviceConnectionRequest(StrictModel):
    device_handle: str = Field(min_length=10, max_length=128)


class DeviceChallengeResponse(StrictModel):
    challenge_id: str
    challenge: str = Field(description="Base64 bytes the device signs with ECDSA-SHA256")
    expires_at: datetime


class DeviceSignatureRequest(StrictModel):
    signature: str = Field(
        min_length=1, max_length=256, description="Base64 DER ECDSA signature of the challenge"
    )


class HistoryEntryResponse(StrictModel):
    event: str
    at: datetime
    institution_id: str
    credential_id: str | None = Field(
        description="Null for events about no certificate (a failed connection)"
    )
    detail: dict[str, str] | None = Field(
        description="What the event adds (sign_type, hashes, reason ...); null if nothing"
    )


class HistoryPageResponse(StrictModel):
    entries: list[HistoryEntryResponse]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page"
    )

    @classmethod
    def of(cls, page: HistoryPage) -> HistoryPageResponse:
        entries = [
            HistoryEntryResponse(
                event=e.event.value,
                at=e.at,
                institution_id=e.institution_id,
                credential_id=e.credential_id,
                detail=e.detail,
            )
            for e in page.entries
        ]
        return cls(entries=entries, next_cursor=page.next_cursor)


# --- certificate status: suspend, restore, revoke ---------------------------------------------
StatusActionName = Literal["suspend", "restore", "revoke"]
RevocationReasonName = Literal[SUBSCRIBER_REVOCATION_REASONS]  # type: ignore[valid-type]  # the domain's one tuple, which mypy cannot read as Literal values


class StatusChangeRequest(StrictModel):
    action: StatusActionName = Field(description="restore is refused here: it takes re-verification")
    reason: RevocationReasonName | None = Field(
        default=None, description="RFC 5280 reason of a revocation (default unspecified); only with revoke"
    )
    pin: str = Field(min_length=1, max_length=16, description="The customer's 6-digit PIN")


class StatusChangeConfirmRequest(StrictModel):
    sms_code: str = Field(pattern=r"^[0-9]{6}$")
    action: StatusActionName
    reason: RevocationReasonName | None = Field(
        default=None, description="RFC 5280 reason of a revocation (default unspecified); only with revoke"
    )


class CertificateStatusResponse(StrictModel):
    credential_id: str
    serial_number: str = Field(description="Hexadecimal")
    status: CertificateState = Field(
        description=(
            "The certificate's status, named alike in every answer of this API: valid, suspended "
            "(효력정지), revoked or expired. (The verify call's certificate_status speaks OCSP's "
            "good/revoked/unknown instead, on purpose.)"
        )
    )
    key_algorithm: str
    auto_renew: bool
    not_before: datetime
    not_after: datetime

    @classmethod
    def of(cls, credential: Credential, now: datetime) -> CertificateStatusResponse:
        return cls(
            credential_id=credential.credential_id,
            serial_number=format(credential.serial_number, "x"),
            status=credential.state(now),
            key_algorithm=credential.key_algorithm,
            auto_renew=credential.auto_renew,
            not_before=credential.not_before,
            not_after=credential.not_after,
        )
