"""The hosted window's API (docs/hosted-window.md): the bank's back end mints UI tickets with its
API key and reads their outcome; the service's own window redeems a ticket for a window
credential and does, for that ticket only, what the customer came to do."""

import base64
from datetime import datetime
from typing import Annotated

from cryptography import x509
from cryptography.x509.oid import NameOID
from fincert.api.app import (
    create_app,
    lambda_handler,
    principal,
    refuse_unknown_query_parameters,
    window_principal,
)
from fincert.api.history_query import (
    HISTORY_QUERY_PARAMETERS,
    ContentSha256Filter,
    HistoryCursor,
    HistoryLimit,
    content_digest,
)
from fincert.api.models import (
    ERROR_RESPONSES,
    PIN_ERROR_RESPONSES,
    CertificateStatusResponse,
    DeviceChallengeResponse,
    DeviceConnectionRequest,
    DeviceListResponse,
    DeviceRegisteredResponse,
    DeviceRegisterRequest,
    DeviceResponse,
    DeviceSignatureRequest,
    HistoryPageResponse,
    IdentityRequest,
    PinChangeRequest,
    PinRequest,
    PinResetConfirmRequest,
    SessionResponse,
    SmsCodeRequest,
    StatusChangeConfirmRequest,
    StatusChangeRequest,
    VerificationStartedResponse,
)
from fincert.api.routing import Path, Response
from fincert.api.security import INSTITUTION, WINDOW
from fincert.api.signing_models import SignContentsResponse
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
    WindowIssuedResponse,
    WindowIssueRequest,
)
from fincert.domain.account_records import Credential
from fincert.domain.institution_records import Principal
from fincert.domain.session_records import VerificationPurpose
from fincert.domain.status_records import StatusAction
from fincert.domain.ticket_records import TicketPurpose
from fincert.domain.ui_tickets import TICKET_ID
from fincert.domain.window import WindowView
from fincert.errors import InvalidRequest
from fincert.wiring import services

app = create_app()
_TICKET_ID = Path(min_length=26, max_length=26, pattern="^" + TICKET_ID.pattern + "$")
_VERIFICATION_ID = Path(min_length=8, max_length=64, pattern=r"^ver_[A-Za-z0-9_-]+$")
_CHALLENGE_ID = Path(min_length=8, max_length=128, pattern=r"^dch\.acct_[A-Za-z0-9_-]+\.dch_[A-Za-z0-9_-]+$")
_DEVICE_ID = Path(min_length=8, max_length=64, pattern=r"^dev_[A-Za-z0-9_-]+$")


def _created(body: object) -> Response:
    return Response(201, body=body, content_type="application/json")


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
    return _created(
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
    return _created(
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
    certificate = x509.load_der_x509_certificate(credential.certificate_der)
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return CertificateView(
        credential_id=credential.credential_id,
        serial_number=format(credential.serial_number, "x"),
        subject=str(common_names[0].value) if common_names else "",
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
    return _created(RedeemResponse(window_token=opened.token, flow=_flow(window.view(opened.ticket))))


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
    return _created(VerificationStartedResponse.of(started))


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
    return _created(
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
    "/v1/window/issuance",
    security=WINDOW,
    summary="Issue the certificate of the ticket's enrollment: SMS code, the customer's answers, new PIN",
    description="In an issue window: the SMS code, the customer's answers to the terms and auto-renewal, and the new PIN. Issues the certificate as `POST /v1/enrollments/{enrollment_id}/confirm` does.",
    responses={201: {"description": "Issued"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def issue(request: WindowIssueRequest) -> Response[WindowIssuedResponse]:
    issued = services().window.issue(
        window_principal(app),
        request.sms_code,
        request.pin,
        terms_accepted=request.terms_accepted,
        auto_renew=request.auto_renew,
    )
    c = issued.credential
    return _created(
        WindowIssuedResponse(
            credential_id=c.credential_id,
            serial_number=format(c.serial_number, "x"),
            certificate_pem=issued.certificate_pem,
            not_before=c.not_before,
            not_after=c.not_after,
            auto_renew=c.auto_renew,
        )
    )


@app.post(
    "/v1/window/signatures",
    security=WINDOW,
    summary="Sign exactly the ticket's contents, in its formats, for one PIN entry",
    description="The signatures are also the ticket's outcome: the bank's back end reads them with "
    "GET /v1/ui-tickets/{ticket_id}.",
    responses={201: {"description": "Signed"}, **PIN_ERROR_RESPONSES},
    tags=["hosted window"],
)
def sign(request: PinRequest) -> Response[SignContentsResponse]:
    svc = services()
    signed = svc.window.sign(window_principal(app), request.pin)
    return _created(SignContentsResponse.of(signed, svc.certificate_authority().chain_pem()))


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
    return _created(
        ConnectCodeResponse(ticket_id=caller.window_ticket_id or "", code=code, expires_at=expires_at)
    )


@app.post(
    "/v1/window/devices",
    security=WINDOW,
    summary="Remember this browser: register its non-extractable P-256 key as one of the customer's devices",
    description="Remember this browser: registers its non-extractable P-256 key as one of the customer's devices (at most 5).",
    responses={201: {"description": "Registered"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def register_device(request: DeviceRegisterRequest) -> Response[DeviceRegisteredResponse]:
    svc = services()
    try:
        public_key = base64.b64decode(request.public_key, validate=True)
    except ValueError:
        raise InvalidRequest("public_key is not base64", code="public_key_invalid") from None
    # after_completion: "remember this browser" is offered once the issuance or signature is done.
    device, handle = svc.devices.register_device(
        svc.window.customer(window_principal(app), after_completion=True), request.name, public_key
    )
    return _created(DeviceRegisteredResponse(**DeviceResponse.of(device).model_dump(), device_handle=handle))


@app.get(
    "/v1/window/devices",
    security=WINDOW,
    summary="The customer's registered devices",
    description="In a manage window: the customer's registered devices.",
    responses={200: {"description": "The devices"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def list_devices() -> DeviceListResponse:
    svc = services()
    devices = svc.devices.list_devices(svc.window.customer(window_principal(app), after_completion=True))
    return DeviceListResponse(devices=[DeviceResponse.of(d) for d in devices])


@app.delete(
    "/v1/window/devices/<device_id>",
    security=WINDOW,
    summary="Remove one of the customer's devices",
    description="Removes one of the customer's devices.",
    responses={204: {"description": "Removed"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def remove_device(device_id: Annotated[str, _DEVICE_ID]) -> Response[None]:
    svc = services()
    svc.devices.remove_device(svc.window.customer(window_principal(app), after_completion=True), device_id)
    return Response(204)


# --- manage: the customer's own certificate, PIN, history -----------------------------------------
_MANAGE = (TicketPurpose.MANAGE,)


def _manager() -> Principal:
    return services().window.customer(window_principal(app), _MANAGE)


@app.post(
    "/v1/window/registrations",
    security=WINDOW,
    summary="Register the customer's certificate with the ticket's institution (타기관 등록), with the PIN",
    description="타기관 등록 in the window: the PIN makes the certificate usable at the ticket's institution.",
    responses={204: {"description": "Registered"}, **PIN_ERROR_RESPONSES},
    tags=["hosted window"],
)
def register_here(request: PinRequest) -> Response[None]:
    svc = services()
    customer = svc.window.customer(window_principal(app), (TicketPurpose.SIGN, TicketPurpose.MANAGE))
    svc.accounts.register_institution(customer, request.pin)
    return Response(204)


@app.get(
    "/v1/window/certificate",
    security=WINDOW,
    summary="The customer's certificate and its status",
    description="In a manage window: the customer's certificate and its status.",
    responses={200: {"description": "The certificate"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def get_certificate() -> CertificateStatusResponse:
    svc = services()
    return CertificateStatusResponse.of(svc.certificate_status.current(_manager()), svc.clock.now())


@app.post(
    "/v1/window/certificate/status",
    security=WINDOW,
    summary="Suspend or revoke the certificate with the PIN (restoring takes re-verification)",
    description="In a manage window: suspend or revoke with the PIN, as `POST /v1/certificate/status`.",
    responses={200: {"description": "Changed"}, **PIN_ERROR_RESPONSES},
    tags=["hosted window"],
)
def change_status(request: StatusChangeRequest) -> CertificateStatusResponse:
    svc = services()
    changed = svc.certificate_status.change_with_pin(
        _manager(), StatusAction(request.action), request.reason, request.pin
    )
    return CertificateStatusResponse.of(changed, svc.clock.now())


@app.put(
    "/v1/window/pin",
    security=WINDOW,
    summary="Change the PIN (the current one, then the new one)",
    description="In a manage window: the current PIN, then the new one (the PIN policy applies). The customer is texted.",
    responses={204: {"description": "Changed"}, **PIN_ERROR_RESPONSES},
    tags=["hosted window"],
)
def change_pin(request: PinChangeRequest) -> Response[None]:
    services().accounts.change_pin(_manager(), request.pin, request.new_pin)
    return Response(204)


@app.get(
    "/v1/window/history",
    security=WINDOW,
    summary="The customer's full usage history, newest first",
    description="In a manage window: the customer's full history at every institution (a bank sees only its own through `GET /v1/history`).",
    responses={200: {"description": "One page"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def list_history(
    limit: HistoryLimit = 20,
    cursor: HistoryCursor = None,
    content_sha256: ContentSha256Filter = None,
) -> HistoryPageResponse:
    refuse_unknown_query_parameters(app, HISTORY_QUERY_PARAMETERS)
    page = services().accounts.list_history(_manager(), limit, cursor, content_digest(content_sha256))
    return HistoryPageResponse.of(page)


def _reverifying() -> Principal:
    return services().window.institution(window_principal(app), _MANAGE)


@app.post(
    "/v1/window/pin-resets",
    security=WINDOW,
    summary="Forgotten or locked PIN: re-verify the customer by name, mobile number and birth date",
    description="In a manage window, for a forgotten or locked PIN: the customer re-verifies with name, mobile number and birth date; the service texts a code.",
    responses={201: {"description": "Code sent"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def start_pin_reset(request: IdentityRequest) -> Response[VerificationStartedResponse]:
    started = services().accounts.start_verification(
        _reverifying(), VerificationPurpose.PIN_RESET, request.name, request.phone, request.birth_date
    )
    return _created(VerificationStartedResponse.of(started))


@app.post(
    "/v1/window/pin-resets/<verification_id>/confirm",
    security=WINDOW,
    summary="Set a new PIN with the SMS code (unlocks the PIN)",
    description="The code and a new PIN: the PIN is replaced and unlocked.",
    responses={204: {"description": "PIN set"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def confirm_pin_reset(
    verification_id: Annotated[str, _VERIFICATION_ID], request: PinResetConfirmRequest
) -> Response[None]:
    services().accounts.confirm_pin_reset(_reverifying(), verification_id, request.sms_code, request.new_pin)
    return Response(204)


@app.post(
    "/v1/window/status-changes",
    security=WINDOW,
    summary="Suspend, restore or revoke after re-verifying the customer: the service texts a code",
    description="In a manage window: suspend, restore or revoke after re-verifying the customer; the service texts a code.",
    responses={201: {"description": "Code sent"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def start_status_change(request: IdentityRequest) -> Response[VerificationStartedResponse]:
    started = services().accounts.start_verification(
        _reverifying(), VerificationPurpose.STATUS_CHANGE, request.name, request.phone, request.birth_date
    )
    return _created(VerificationStartedResponse.of(started))


@app.post(
    "/v1/window/status-changes/<verification_id>/confirm",
    security=WINDOW,
    summary="Make the status change with the SMS code",
    description="The code and the change (restore only this way), as `POST /v1/status-changes/{verification_id}/confirm`.",
    responses={200: {"description": "Changed"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def confirm_status_change(
    verification_id: Annotated[str, _VERIFICATION_ID], request: StatusChangeConfirmRequest
) -> CertificateStatusResponse:
    svc = services()
    changed = svc.certificate_status.change_with_verification(
        _reverifying(), verification_id, request.sms_code, StatusAction(request.action), request.reason
    )
    return CertificateStatusResponse.of(changed, svc.clock.now())


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
