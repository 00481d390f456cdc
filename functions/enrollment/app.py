"""Enrollment and issuance: POST /v1/enrollments, POST /v1/enrollments/{enrollment_id}/confirm."""

from typing import Annotated

from fincert.api.app import create_app, lambda_handler, principal
from fincert.api.enrollment_models import (
    CertificateResponse,
    EnrollmentConfirmRequest,
    EnrollmentStartRequest,
    EnrollmentStartResponse,
)
from fincert.api.models import ERROR_RESPONSES
from fincert.api.routing import Path, Response
from fincert.api.security import INSTITUTION
from fincert.wiring import services

app = create_app()


@app.post(
    "/v1/enrollments",
    security=INSTITUTION,
    summary="Start enrollment: the service texts the customer a 6-digit code",
    description="The bank verified the customer and sends their identity, their answer to the terms and auto-renewal, and the key algorithm. The service texts a 6-digit code; the enrollment lives 5 minutes and allows 5 wrong codes. Texts count against hourly limits per phone and per institution.",
    responses={201: {"description": "Enrollment started"}, **ERROR_RESPONSES},
    tags=["issuance"],
)
def start_enrollment(request: EnrollmentStartRequest) -> Response[EnrollmentStartResponse]:
    started = services().enrollment.start(principal(app), request.to_domain())
    return Response(201, body=EnrollmentStartResponse.from_domain(started), content_type="application/json")


@app.post(
    "/v1/enrollments/<enrollment_id>/confirm",
    security=INSTITUTION,
    summary="Confirm with the SMS code and the new PIN: issues the financial certificate",
    description="The code and the customer's new PIN (the PIN policy applies). The service creates the account if needed, generates the key pair, issues a 3-year certificate and returns it with the chain; an earlier certificate of the same person is revoked (superseded) in the same transaction. A retry with the same body returns the same certificate.",
    responses={201: {"description": "Certificate issued (or the same one, for a retry)"}, **ERROR_RESPONSES},
    tags=["issuance"],
)
def confirm_enrollment(
    enrollment_id: Annotated[str, Path(min_length=8, max_length=64, pattern=r"^enr_[A-Za-z0-9_-]+$")],
    request: EnrollmentConfirmRequest,
) -> Response[CertificateResponse]:
    svc = services()
    issued = svc.enrollment.confirm(principal(app), enrollment_id, request.sms_code, request.pin)
    body = CertificateResponse.from_domain(issued, svc.clock.now())
    return Response(201, body=body, content_type="application/json")


handler = lambda_handler(app)
