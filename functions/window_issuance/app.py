"""The issue window's step (docs/hosted-window.md): issue the certificate of the ticket's
enrollment with the SMS code, the customer's answers and the new PIN. A function of its own so
that the window's other steps do not import the issuance code (key generation, the X.509 profile)."""

from fincert.api.app import (
    create_app,
    created,
    lambda_handler,
    window_principal,
)
from fincert.api.models import (
    ERROR_RESPONSES,
)
from fincert.api.routing import Response
from fincert.api.security import WINDOW
from fincert.api.window_models import (
    WindowIssuedResponse,
    WindowIssueRequest,
)
from fincert.wiring import services

app = create_app()


@app.post(
    "/v1/window/issuance",
    security=WINDOW,
    summary="Issue the certificate of the ticket's enrollment: SMS code, the customer's answers, new PIN",
    description="In an issue window: the SMS code, the customer's answers to the terms and auto-renewal, and the new PIN. Issues the certificate as `POST /v1/enrollments/{enrollment_id}/confirm` does.",
    responses={201: {"description": "Issued"}, **ERROR_RESPONSES},
    tags=["hosted window"],
)
def issue(request: WindowIssueRequest) -> Response[WindowIssuedResponse]:
    issued = services().window_issuance.issue(
        window_principal(app),
        request.sms_code,
        request.pin,
        terms_accepted=request.terms_accepted,
        auto_renew=request.auto_renew,
    )
    c = issued.credential
    return created(
        WindowIssuedResponse(
            credential_id=c.credential_id,
            serial_number=format(c.serial_number, "x"),
            certificate_pem=issued.certificate_pem,
            not_before=c.not_before,
            not_after=c.not_after,
            auto_renew=c.auto_renew,
        )
    )


handler = lambda_handler(app)
