"""Certificate status for the customer and their banks: read it, suspend (효력정지), restore
(효력회복) or revoke it. With the customer's session + PIN (suspend, revoke), or with the
institution's re-verification of the customer: name + phone + birth date, then the SMS code
(suspend, restore, revoke; for a lost phone or a locked or forgotten PIN)."""

from typing import Annotated

from fincert.api.app import create_app, lambda_handler, principal
from fincert.api.models import (
    ERROR_RESPONSES,
    PIN_ERROR_RESPONSES,
    CertificateStatusResponse,
    IdentityRequest,
    StatusChangeConfirmRequest,
    StatusChangeRequest,
    VerificationStartedResponse,
)
from fincert.api.routing import Path, Response
from fincert.api.security import CUSTOMER, INSTITUTION
from fincert.domain.account_records import Credential
from fincert.domain.session_records import VerificationPurpose
from fincert.domain.status_records import StatusAction
from fincert.wiring import services

app = create_app()
_VERIFICATION_ID = Path(min_length=8, max_length=64, pattern=r"^ver_[A-Za-z0-9_-]+$")


def _status(credential: Credential) -> CertificateStatusResponse:
    return CertificateStatusResponse.of(credential, services().clock.now())


@app.get(
    "/v1/certificate",
    security=CUSTOMER,
    summary="The customer's certificate and its status (valid, suspended, expired)",
    description="The certificate of the session's customer as this institution may see it: `valid`, `suspended` or `expired`; a revoked one is 404 `certificate_not_found`.",
    responses={200: {"description": "The certificate"}, **ERROR_RESPONSES},
    tags=["status"],
)
def get_certificate() -> CertificateStatusResponse:
    return _status(services().certificate_status.current(principal(app)))


@app.post(
    "/v1/certificate/status",
    security=CUSTOMER,
    summary="Suspend or revoke the customer's certificate with their PIN (restoring takes re-verification)",
    description="The customer suspends (효력정지) or revokes (폐기) their certificate with their PIN (one attempt). Revocations take an RFC 5280 reason. The very next OCSP answer shows it; the customer is texted. Restoring is 403 `reverification_required`: it takes `POST /v1/status-changes`.",
    responses={200: {"description": "Changed"}, **PIN_ERROR_RESPONSES},
    tags=["status"],
)
def change_status(request: StatusChangeRequest) -> CertificateStatusResponse:
    changed = services().certificate_status.change_with_pin(
        principal(app), StatusAction(request.action), request.reason, request.pin
    )
    return _status(changed)


@app.post(
    "/v1/status-changes",
    security=INSTITUTION,
    summary="Start a status change: the institution re-verified the customer; the service texts a code",
    description="The institution re-verified the customer (a lost phone, a locked or forgotten PIN) and sends their identity; the service texts a code. The same answer whether or not the person has a certificate here.",
    responses={201: {"description": "Code sent"}, **ERROR_RESPONSES},
    tags=["status"],
)
def start_status_change(request: IdentityRequest) -> Response[VerificationStartedResponse]:
    started = services().accounts.start_verification(
        principal(app), VerificationPurpose.STATUS_CHANGE, request.name, request.phone, request.birth_date
    )
    body = VerificationStartedResponse.of(started)
    return Response(201, body=body, content_type="application/json")


@app.post(
    "/v1/status-changes/<verification_id>/confirm",
    security=INSTITUTION,
    summary="Confirm with the SMS code: suspend, restore or revoke the customer's certificate",
    description="The code the customer received and the change: `suspend`, `restore` (the only way to restore) or `revoke` with a reason. One transaction changes the certificate, its revocation record and the account; the customer is texted.",
    responses={200: {"description": "Changed"}, **ERROR_RESPONSES},
    tags=["status"],
)
def confirm_status_change(
    verification_id: Annotated[str, _VERIFICATION_ID], request: StatusChangeConfirmRequest
) -> CertificateStatusResponse:
    changed = services().certificate_status.change_with_verification(
        principal(app), verification_id, request.sms_code, StatusAction(request.action), request.reason
    )
    return _status(changed)


handler = lambda_handler(app)
