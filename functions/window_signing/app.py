"""The sign window's step (docs/hosted-window.md): sign exactly the ticket's contents, in its
formats, for one PIN entry. A function of its own so that the window's other steps do not import
the signing code (CMS, the time-stamp token, the OCSP answer)."""

from fincert.api.app import (
    create_app,
    created,
    lambda_handler,
    window_principal,
)
from fincert.api.models import (
    PIN_ERROR_RESPONSES,
    PinRequest,
)
from fincert.api.routing import Response
from fincert.api.security import WINDOW
from fincert.api.signing_models import SignContentsResponse
from fincert.wiring import services

app = create_app()


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
    signed = svc.window_signing.sign(window_principal(app), request.pin)
    return created(SignContentsResponse.of(signed, svc.certificate_authority().chain_pem()))


handler = lambda_handler(app)
