"""Request and response bodies of the UI tickets (the bank's back end) and of the service's
window (docs/hosted-window.md). Strict like the rest of the API."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from fincert.api.models import StrictModel
from fincert.domain.institutions import ORIGIN
from fincert.domain.ticket_records import MAX_CONTENT_BYTES, MAX_CONTENTS, TicketContent, UiTicket

TicketPurposeName = Literal["issue", "connect", "sign", "manage"]
_ORIGIN_PATTERN = "^" + ORIGIN.pattern + "$"


class TicketContentRequest(StrictModel):
    """Exactly one of `text` (UTF-8, shown in full in the window) or `base64` (binary, shown by
    name, size and SHA-256, labelled as not displayed)."""

    text: str | None = Field(default=None, min_length=1, max_length=MAX_CONTENT_BYTES)
    base64: str | None = Field(default=None, min_length=1, max_length=4 * ((MAX_CONTENT_BYTES + 2) // 3))
    name: str | None = Field(
        default=None, min_length=1, max_length=255, description="File name of a binary content"
    )

    @field_validator("base64")
    @classmethod
    def _decodes(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("not valid base64") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> TicketContentRequest:
        if (self.text is None) == (self.base64 is None):
            raise ValueError("exactly one of text or base64")
        if self.text is not None and self.name is not None:
            raise ValueError("name is for binary contents")
        return self

    def to_domain(self) -> TicketContent:
        if self.text is not None:
            return TicketContent(kind="text", data=self.text.encode("utf-8"))
        # Validated above: decodes.
        return TicketContent(
            kind="binary", data=base64.b64decode(self.base64 or "", validate=True), name=self.name
        )


class SignOrderRequest(StrictModel):
    sign_type: str = Field(min_length=1, max_length=32, description="A sign type name or FinCert code")
    format: Literal["cms_attached", "cms_detached", "raw"] = "cms_attached"
    contents: list[TicketContentRequest] = Field(min_length=1, max_length=MAX_CONTENTS)


class TicketRequest(StrictModel):
    purpose: TicketPurposeName
    origin: str = Field(
        max_length=270,
        pattern=_ORIGIN_PATTERN,
        description="One of the institution's registered origins: the only one that receives the result",
    )
    enrollment_id: str | None = Field(
        default=None, max_length=64, pattern=r"^enr_[A-Za-z0-9_-]+$", description="purpose issue only"
    )
    sign: SignOrderRequest | None = Field(
        default=None, description="purpose sign only: what the window signs"
    )


class TicketResponse(StrictModel):
    ticket_id: str
    ticket: str = Field(
        description="The secret the bank's page hands the window (postMessage); redeemed once"
    )
    purpose: TicketPurposeName
    origin: str
    expires_at: datetime


class TicketStatusResponse(StrictModel):
    ticket_id: str
    purpose: TicketPurposeName
    status: Literal["pending", "open", "completed", "cancelled", "expired"]
    outcome: dict[str, Any] = Field(description="What the window did, once completed (see docs)")


class ConnectCodeRequest(StrictModel):
    code: str = Field(min_length=8, max_length=64)


# --- the window -------------------------------------------------------------------------------------
class RedeemRequest(StrictModel):
    ticket: str = Field(min_length=1, max_length=128)
    opener_origin: str = Field(min_length=1, max_length=270, description="The origin of the opener's message")


class ContentView(StrictModel):
    kind: Literal["text", "binary"]
    text: str | None = Field(default=None, description="Text contents, in full")
    name: str | None = None
    bytes: int
    sha256: str

    @classmethod
    def of(cls, content: TicketContent) -> ContentView:
        return cls(
            kind="text" if content.kind == "text" else "binary",
            text=content.data.decode("utf-8") if content.kind == "text" else None,
            name=content.name,
            bytes=len(content.data),
            sha256=content.sha256,
        )


class SignOrderView(StrictModel):
    sign_type: str
    format: str
    contents: list[ContentView]


class CertificateView(StrictModel):
    credential_id: str
    serial_number: str
    subject: str = Field(description="The certificate's common name")
    status: str
    not_after: datetime


class WindowFlowResponse(StrictModel):
    ticket_id: str
    purpose: TicketPurposeName
    status: str
    institution_id: str
    institution_name: str
    origin: str
    expires_at: datetime | None
    connected: bool
    certificate: CertificateView | None = None
    sign: SignOrderView | None = None

    @classmethod
    def of(
        cls,
        ticket: UiTicket,
        institution_name: str,
        now: datetime,
        certificate: CertificateView | None = None,
    ) -> WindowFlowResponse:
        sign = ticket.sign
        return cls(
            ticket_id=ticket.ticket_id,
            purpose=ticket.purpose.value,
            status=ticket.status_at(now).value,
            institution_id=ticket.institution_id,
            institution_name=institution_name,
            origin=ticket.origin,
            expires_at=ticket.window_expires_at,
            connected=ticket.account_id is not None,
            certificate=certificate,
            sign=SignOrderView(
                sign_type=sign.sign_type,
                format=sign.format,
                contents=[ContentView.of(c) for c in sign.contents],
            )
            if sign
            else None,
        )


class RedeemResponse(StrictModel):
    window_token: str = Field(description="Bearer credential of this window's flow; keep it in memory only")
    flow: WindowFlowResponse


class WindowIssueRequest(StrictModel):
    sms_code: str = Field(pattern=r"^[0-9]{6}$")
    pin: str = Field(min_length=1, max_length=16)
    terms_accepted: bool
    auto_renew: bool


class WindowIssuedResponse(StrictModel):
    credential_id: str
    serial_number: str
    certificate_pem: str
    not_before: datetime
    not_after: datetime
    auto_renew: bool


class ConnectCodeResponse(StrictModel):
    ticket_id: str
    code: str = Field(description="One-time: the bank's back end exchanges it for a customer session")
    expires_at: datetime
