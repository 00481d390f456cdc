"""The hosted window's API (docs/hosted-window.md): the bank's back end mints UI tickets with its
API key and reads their outcome; the service's own window redeems a ticket for a window
credential, shows its flow, connects the customer (SMS code or a remembered browser) and ends a
connect or manage window. The window's other steps are functions of their own, so that each
imports only its own code (issue 12, cold start): window_issuance (issue), window_signing (sign)
and window_customer (the customer's devices, certificate, PIN and history)."""

import base64
from datetime import datetime
from typing import Annotated

from fincert.api.app import (
    create_app,
    created,
    lambda_handler,
    principal,
    window_principal,
)
from fincert.api.models import (
    ERROR_RESPONSES,
    DeviceChallengeResponse,
    DeviceConnectionRequest,
    DeviceSignatureRequest,
    IdentityRequest,
    SessionResponse,
    SmsCodeRequest,
    VerificationStartedResponse,
)
from fincert.api.routing import Path, Response
from fincert.api.security import INSTITUTION, WINDOW
from fincert.api.window_models import (
    CertificateView,
    ConnectCodeRequest,
    ConnectCodeResponse,
    RedeemRequest,
    RedeemResponse,
    TicketRequest,
    TicketResponse,
    TicketStatusResponse,
    WindowFlowResponse,
)
from fincert.crypto.der import subject_common_name
from fincert.domain.account_records import Credential
from fincert.domain.ticket_records import TicketPurpose
from fincert.domain.ui_tickets import TICKET_ID
from fincert.domain.window import WindowView
from fincert.errors import InvalidRequest
from fincert.wiring import services

app = create_app()
_TICKET_ID = Path(min_length=26, max_length=26, pattern="^" + TICKET_ID.pattern + "$")
_VERIFICATION_ID = Path(min_length=8, max_length=64, pattern=r"^ver_[A-Za-z0-9_-]+$")
_CHALLENGE_ID = Path(min_length=8, max_length=128, pattern=r"^dch\.acct_[A-Za-z0-9_-]+\.dch_[A-Za-z0-9_-]+$")


# --- the bank's back end ------------------------------------------------------------------------


@app.post(
    "/v1/ui-tickets",
    security=INSTITUTION,
    summary="Mint a UI ticket: one customer flow in the service's window, its result for one origin",
    description="The bank's back end asks for a single-use ticket for one customer flow in the service's window: `issue` (an enrollment it started), `connect`, `sign` (the contents to show and sign) or `manage`. Its page hands the ticket to the window, which must be opened from `origin`, one of the institution's registered origins.",
    responses={201: {"description": "Minted (redeem within expires_at)"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def mint_ticket(request: TicketRequest) -> Response[TicketResponse]:
    minted = services().ui_tickets.mint(
        principal(app),
        TicketPurpose(request.purpose),
        request.origin,
        enrollment_id=request.enrollment_id,
        sign=request.sign.to_domain() if request.sign else None,
    )
    ticket = minted.ticket
    return created(
        TicketResponse(
            ticket_id=ticket.ticket_id,
            ticket=minted.token,
            purpose=request.purpose,
            origin=ticket.origin,
            expires_at=ticket.expires_at,
        )
    )


@app.get(
    "/v1/ui-tickets/<ticket_id>",
    security=INSTITUTION,
    summary="What became of a UI ticket: the outcome as the service recorded it",
    description="What became of a ticket the institution minted: `pending`, `open`, `completed` (with its outcome: the certificate issued, the signatures, ...), `cancelled` or `expired`. The bank's back end reads the result here, not from its page.",
    responses={200: {"description": "The ticket's status and outcome"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def get_ticket(ticket_id: Annotated[str, _TICKET_ID]) -> TicketStatusResponse:
    svc = services()
    ticket = svc.ui_tickets.describe(principal(app), ticket_id)
    return TicketStatusResponse(
        ticket_id=ticket.ticket_id,
        purpose=ticket.purpose.value,
        status=ticket.status_at(svc.clock.now()).value,
        outcome=ticket.outcome,
    )


@app.post(
    "/v1/ui-tickets/<ticket_id>/session",
    security=INSTITUTION,
    summary="Exchange a connect window's one-time code for a customer session",
    description="A connect window ends with a one-time code, which the bank's back end exchanges here for a customer session (as `POST /v1/connections/{verification_id}/confirm` returns).",
    responses={201: {"description": "Session opened"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def exchange_connect_code(
    ticket_id: Annotated[str, _TICKET_ID], request: ConnectCodeRequest
) -> Response[SessionResponse]:
    svc = services()
    opened = svc.ui_tickets.exchange_connect_code(principal(app), ticket_id, request.code)
    registered = svc.accounts.registered_with(opened.session.account_id, opened.session.institution_id)
    return created(
        SessionResponse(
            session_token=opened.token,
            expires_at=opened.session.expires_at,
            institution_registered=registered,
        )
    )


# --- the window -----------------------------------------------------------------------------------


def _certificate(credential: Credential | None, now: datetime) -> CertificateView | None:
    if credential is None:
        return None
    return CertificateView(
        credential_id=credential.credential_id,
        serial_number=format(credential.serial_number, "x"),
        subject=subject_common_name(credential.certificate_der) or "",
        status=credential.state(now),
        not_after=credential.not_after,
    )


def _flow(view: WindowView) -> WindowFlowResponse:
    now = services().clock.now()
    return WindowFlowResponse.of(view.ticket, view.institution_name, now, _certificate(view.credential, now))


@app.post(
    "/v1/window/redeem",
    summary="The window redeems its ticket, once, for a window credential",
    description="No authorizer: the ticket in the body is the credential. The window reports the origin of "
    "its opener's message; a ticket minted for another origin is refused.",
    responses={201: {"description": "Redeemed"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def redeem(request: RedeemRequest) -> Response[RedeemResponse]:
    window = services().window
    opened = window.redeem(request.ticket, request.opener_origin)
    return created(RedeemResponse(window_token=opened.token, flow=_flow(window.view(opened.ticket))))


@app.get(
    "/v1/window",
    security=WINDOW,
    summary="The window's flow as it is now",
    description="The window's flow: its purpose, the institution, whether the customer is connected, their certificate and, for a sign window, what is to be signed.",
    responses={200: {"description": "The flow"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def get_flow() -> WindowFlowResponse:
    return _flow(services().window.flow(window_principal(app)))


@app.post(
    "/v1/window/cancel",
    security=WINDOW,
    summary="The customer closed or cancelled the window",
    description="The customer closed or cancelled the window: the ticket ends `cancelled` and the window credential stops working.",
    responses={204: {"description": "Cancelled"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def cancel() -> Response[None]:
    services().window.cancel(window_principal(app))
    return Response(204)


@app.post(
    "/v1/window/connections",
    security=WINDOW,
    summary="Connect the customer by name, mobile number and birth date: the service texts a code",
    description="The customer types their name, mobile number and birth date in the window; the service texts a code.",
    responses={201: {"description": "Code sent"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def start_connection(request: IdentityRequest) -> Response[VerificationStartedResponse]:
    started = services().window.start_connection(
        window_principal(app), request.name, request.phone, request.birth_date
    )
    return created(VerificationStartedResponse.of(started))


@app.post(
    "/v1/window/connections/<verification_id>/confirm",
    security=WINDOW,
    summary="Confirm the connection with the SMS code",
    description="The code connects the customer in this window (no token leaves it).",
    responses={200: {"description": "Connected"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def confirm_connection(
    verification_id: Annotated[str, _VERIFICATION_ID], request: SmsCodeRequest
) -> WindowFlowResponse:
    window = services().window
    ticket = window.confirm_connection(window_principal(app), verification_id, request.sms_code)
    return _flow(window.view(ticket))


@app.post(
    "/v1/window/device-connections",
    security=WINDOW,
    summary="Connect as a remembered browser: a single-use challenge to sign",
    description="A browser the customer asked to remember (a non-extractable WebCrypto key) asks for a single-use challenge.",
    responses={201: {"description": "Challenge issued"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def start_device_connection(request: DeviceConnectionRequest) -> Response[DeviceChallengeResponse]:
    issued = services().window.start_device_connection(window_principal(app), request.device_handle)
    return created(
        DeviceChallengeResponse(
            challenge_id=issued.handle,
            challenge=base64.b64encode(issued.challenge.message()).decode(),
            expires_at=issued.challenge.expires_at,
        )
    )


def _signature_bytes(signature_b64: str) -> bytes:
    try:
        return base64.b64decode(signature_b64, validate=True)
    except ValueError:
        raise InvalidRequest("the signature is not base64", code="signature_invalid") from None


@app.post(
    "/v1/window/device-connections/<challenge_id>/confirm",
    security=WINDOW,
    summary="Answer the challenge with the browser's signature (DER, or WebCrypto's r||s)",
    description="The browser's ECDSA P-256 signature of the challenge (DER or WebCrypto's r||s, base64) connects the customer without an SMS.",
    responses={200: {"description": "Connected"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def confirm_device_connection(
    challenge_id: Annotated[str, _CHALLENGE_ID], request: DeviceSignatureRequest
) -> WindowFlowResponse:
    window = services().window
    ticket = window.confirm_device_connection(
        window_principal(app), challenge_id, _signature_bytes(request.signature)
    )
    return _flow(window.view(ticket))


@app.post(
    "/v1/window/connect-code",
    security=WINDOW,
    summary="End a connect window: a one-time code for the bank's back end",
    description="In a connect window, once connected: a one-time code the bank's page passes to its back end, which exchanges it for a session (`POST /v1/ui-tickets/{ticket_id}/session`).",
    responses={201: {"description": "The code"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def connect_code() -> Response[ConnectCodeResponse]:
    caller = window_principal(app)
    code, expires_at = services().window.connect_code(caller)
    return created(
        ConnectCodeResponse(ticket_id=caller.window_ticket_id or "", code=code, expires_at=expires_at)
    )


@app.post(
    "/v1/window/finish",
    security=WINDOW,
    summary="The customer is done managing: the bank's back end sees the ticket completed",
    description="The customer is done managing: the ticket ends `completed` and the window credential stops working.",
    responses={204: {"description": "Finished"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def finish() -> Response[None]:
    services().window.finish(window_principal(app))
    return Response(204)


handler = lambda_handler(app)
