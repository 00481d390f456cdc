"""Cloud connection and re-verification, called by the institution's back end with its API key:
name + phone + birth date -> SMS code -> customer session; device auto-connection; PIN reset."""

import base64
from typing import Annotated

from fincert.api.app import create_app, lambda_handler, principal
from fincert.api.models import (
    ERROR_RESPONSES,
    DeviceChallengeResponse,
    DeviceConnectionRequest,
    DeviceSignatureRequest,
    IdentityRequest,
    PinResetConfirmRequest,
    SessionResponse,
    SmsCodeRequest,
    VerificationStartedResponse,
)
from fincert.api.routing import Path, Response
from fincert.api.security import INSTITUTION
from fincert.domain.accounts import Connected
from fincert.domain.session_records import VerificationPurpose
from fincert.errors import InvalidRequest
from fincert.wiring import services

app = create_app()
_VERIFICATION_ID = Path(min_length=8, max_length=64, pattern=r"^ver_[A-Za-z0-9_-]+$")
_CHALLENGE_ID = Path(min_length=8, max_length=128, pattern=r"^dch\.acct_[A-Za-z0-9_-]+\.dch_[A-Za-z0-9_-]+$")


def _started(purpose: VerificationPurpose, request: IdentityRequest) -> Response[VerificationStartedResponse]:
    started = services().accounts.start_verification(
        principal(app), purpose, request.name, request.phone, request.birth_date
    )
    return Response(201, body=VerificationStartedResponse.of(started), content_type="application/json")


def _session(connected: Connected) -> SessionResponse:
    return SessionResponse(
        session_token=connected.opened.token,
        expires_at=connected.opened.session.expires_at,
        institution_registered=connected.institution_registered,
    )


@app.post(
    "/v1/connections",
    security=INSTITUTION,
    summary="Start a cloud connection: the service texts the customer a 6-digit code",
    description="The same answer whether or not the customer has a certificate (no account enumeration).",
    responses={201: {"description": "Code sent"}, **ERROR_RESPONSES},
    tags=["connection"],
)
def start_connection(request: IdentityRequest) -> Response[VerificationStartedResponse]:
    return _started(VerificationPurpose.CONNECT, request)


@app.post(
    "/v1/connections/<verification_id>/confirm",
    security=INSTITUTION,
    summary="Confirm with the SMS code: opens a customer session",
    description="The code the customer received opens a customer session (15 minutes, revocable) bound to this customer and this institution. `institution_registered` says whether the certificate is usable here yet (otherwise `POST /v1/registrations`). 404 `certificate_not_found` once the code is right and the person has no certificate.",
    responses={201: {"description": "Session opened"}, **ERROR_RESPONSES},
    tags=["connection"],
)
def confirm_connection(
    verification_id: Annotated[str, _VERIFICATION_ID], request: SmsCodeRequest
) -> Response[SessionResponse]:
    connected = services().accounts.confirm_connection(principal(app), verification_id, request.sms_code)
    return Response(201, body=_session(connected), content_type="application/json")


@app.post(
    "/v1/device-connections",
    security=INSTITUTION,
    summary="Start a device auto-connection: a single-use challenge for the device to sign",
    description="A registered device (its `device_handle` from `POST /v1/devices`) asks to connect without an SMS: the service returns a fresh single-use challenge, valid 2 minutes.",
    responses={201: {"description": "Challenge issued"}, **ERROR_RESPONSES},
    tags=["connection"],
)
def start_device_connection(request: DeviceConnectionRequest) -> Response[DeviceChallengeResponse]:
    issued = services().devices.start_device_connection(principal(app), request.device_handle)
    body = DeviceChallengeResponse(
        challenge_id=issued.handle,
        challenge=base64.b64encode(issued.challenge.message()).decode(),
        expires_at=issued.challenge.expires_at,
    )
    return Response(201, body=body, content_type="application/json")


@app.post(
    "/v1/device-connections/<challenge_id>/confirm",
    security=INSTITUTION,
    summary="Confirm with the device's ECDSA-SHA256 signature of the challenge: opens a customer session",
    description="The device's ECDSA-SHA256 signature (base64 DER) of the challenge, made with the P-256 key it registered, opens a customer session as an SMS connection would.",
    responses={201: {"description": "Session opened"}, **ERROR_RESPONSES},
    tags=["connection"],
)
def confirm_device_connection(
    challenge_id: Annotated[str, _CHALLENGE_ID], request: DeviceSignatureRequest
) -> Response[SessionResponse]:
    try:
        signature = base64.b64decode(request.signature, validate=True)
    except ValueError:
        raise InvalidRequest("signature must be base64", code="device_signature_invalid") from None
    connected = services().devices.confirm_device_connection(principal(app), challenge_id, signature)
    return Response(201, body=_session(connected), content_type="application/json")


@app.post(
    "/v1/pin-resets",
    security=INSTITUTION,
    summary="Start a PIN reset: the institution re-verified the customer; the service texts a code",
    description="The institution re-verified the customer whose PIN is forgotten or locked and sends their identity; the service texts a code.",
    responses={201: {"description": "Code sent"}, **ERROR_RESPONSES},
    tags=["pin"],
)
def start_pin_reset(request: IdentityRequest) -> Response[VerificationStartedResponse]:
    return _started(VerificationPurpose.PIN_RESET, request)


@app.post(
    "/v1/pin-resets/<verification_id>/confirm",
    security=INSTITUTION,
    summary="Confirm with the SMS code and a new PIN: sets the PIN and unlocks it",
    description="The code and a new PIN (the PIN policy applies): the PIN is replaced and unlocked; the customer is texted.",
    responses={204: {"description": "PIN reset"}, **ERROR_RESPONSES},
    tags=["pin"],
)
def confirm_pin_reset(
    verification_id: Annotated[str, _VERIFICATION_ID], request: PinResetConfirmRequest
) -> Response[None]:
    services().accounts.confirm_pin_reset(principal(app), verification_id, request.sms_code, request.new_pin)
    return Response(204)


handler = lambda_handler(app)
