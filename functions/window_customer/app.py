"""What the window does for its connected customer (docs/hosted-window.md): remember this browser
(a device), register the certificate with the ticket's institution and, in a manage window, the
certificate's status, the PIN (change, or reset after re-verification) and the full history."""

import base64
from typing import Annotated

from fincert.api.app import (
    create_app,
    created,
    lambda_handler,
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
    DeviceListResponse,
    DeviceRegisteredResponse,
    DeviceRegisterRequest,
    DeviceResponse,
    HistoryPageResponse,
    IdentityRequest,
    PinChangeRequest,
    PinRequest,
    PinResetConfirmRequest,
    StatusChangeConfirmRequest,
    StatusChangeRequest,
    VerificationStartedResponse,
)
from fincert.api.routing import Path, Response
from fincert.api.security import WINDOW
from fincert.domain.institution_records import Principal
from fincert.domain.session_records import VerificationPurpose
from fincert.domain.status_records import StatusAction
from fincert.domain.ticket_records import TicketPurpose
from fincert.errors import InvalidRequest
from fincert.wiring import services

app = create_app()
_VERIFICATION_ID = Path(min_length=8, max_length=64, pattern=r"^ver_[A-Za-z0-9_-]+$")
_DEVICE_ID = Path(min_length=8, max_length=64, pattern=r"^dev_[A-Za-z0-9_-]+$")


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
    return created(DeviceRegisteredResponse(**DeviceResponse.of(device).model_dump(), device_handle=handle))


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
    return created(VerificationStartedResponse.of(started))


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
    return created(VerificationStartedResponse.of(started))


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


handler = lambda_handler(app)
