"""Request and response bodies of the UI tickets (the bank's back end) and of the service's
window (docs/hosted-window.md). Strict like the rest of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fincert.api.models import StrictModel
from fincert.api.schema import Field
from fincert.api.signing_models import (
    BinaryContent,
    SignatureFormatName,
    SignTypeCode,
    SignTypeName,
    TextContent,
    contents_to_domain,
)
from fincert.domain.institutions import ORIGIN
from fincert.domain.sign_requests import MAX_CONTENTS, SignType
from fincert.domain.ticket_records import SignOrder, TicketContent, UiTicket

TicketPurposeName = Literal["issue", "connect", "sign", "manage"]
_ORIGIN_PATTERN = "^" + ORIGIN.pattern + "$"


class SignOrderRequest(StrictModel):
    """What the window shows and signs, exactly: as `POST /v1/signatures` takes it, less the PIN
    (typed in the window) and hash contents (the window shows what it signs)."""

    sign_type: SignTypeName | SignTypeCode = Field(description="A sign type name or FinCert's code")
    formats: list[SignatureFormatName] = Field(default=["cms_attached"], min_length=1, max_length=3)
    contents: list[TextContent | BinaryContent] = Field(min_length=1, max_length=MAX_CONTENTS)

    def to_domain(self) -> SignOrder:
        return SignOrder(
            sign_type=SignType.parse(self.sign_type).value,
            formats=tuple(self.formats),
            contents=tuple(
                TicketContent(kind=c.kind.value, data=c.data, name=c.name)
                for c in contents_to_domain(list(self.contents))
            ),
        )


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
    text: str | None = Field(description="Text contents, in full; null for binary contents")
    name: str | None = Field(description="A binary content's file name, if the bank gave one")
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
    sign_type_code: str
    formats: list[str]
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
    certificate: CertificateView | None = Field(
        description="The connected customer's certificate; null until connected"
    )
    sign: SignOrderView | None = Field(description="What a sign window signs; null for other purposes")

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
                sign_type_code=SignType(sign.sign_type).code,
                formats=list(sign.formats),
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
