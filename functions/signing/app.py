"""FinCert-style signing for bank frontends: the customer's session token, the contents as shown,
the sign type, the formats and one PIN entry -> per content, CMS SignedData (attached or
detached) and/or a raw signature, each with its evidence (an RFC 3161 time-stamp token and the
certificate's OCSP answer at signing time); and the verify call a relying party's back end makes
with its API key, which judges a timestamped signature at its time."""

from typing import Any

from fincert.api.app import create_app, event_principal, lambda_handler, principal
from fincert.api.app import refuse_before_parsing as refuse_json
from fincert.api.models import ERROR_RESPONSES, PIN_ERROR_RESPONSES
from fincert.api.routing import Response
from fincert.api.security import CUSTOMER, INSTITUTION
from fincert.api.signing_models import SignContentsRequest, SignContentsResponse, contents_to_domain
from fincert.api.verification_models import (
    MAX_VERIFY_BODY_BYTES,
    VerifySignatureRequest,
    VerifySignatureResponse,
)
from fincert.domain.access import require_institution
from fincert.domain.sign_requests import SignatureFormat, SignType
from fincert.errors import FincertError
from fincert.settings import get_settings
from fincert.wiring import services

app = create_app()
VERIFY_PATH = "/v1/signatures/verify"


@app.post(
    "/v1/signatures",
    security=CUSTOMER,
    summary="Sign 1 to 10 contents with the customer's certificate for one PIN entry",
    description=(
        "Customer session only. Every content is signed in every format asked, after one PIN check; "
        "the answer lists, per content in the order sent, its SHA-256 and its signatures. All or "
        "nothing: a wrong PIN or an unusable certificate signs none."
    ),
    responses={201: {"description": "Signed"}, **PIN_ERROR_RESPONSES},
    tags=["signing"],
)
def sign_contents(request: SignContentsRequest) -> Response[SignContentsResponse]:
    svc = services()
    signed = svc.signing.sign_contents(
        principal(app),
        contents_to_domain(request.contents),
        SignType.parse(request.sign_type),
        [SignatureFormat(f) for f in request.formats],
        request.pin,
        request.credential_id,
    )
    body = SignContentsResponse.of(signed, svc.certificate_authority().chain_pem())
    return Response(201, body=body, content_type="application/json")


@app.post(
    VERIFY_PATH,
    security=INSTITUTION,
    summary="Verify a signature: its value, its certificate's chain to this CA, and the certificate's status",
    description=(
        "Institution API key only. An invalid signature is a 200 with valid=false and reason codes; "
        "only input that cannot be judged (not base64, not CMS SignedData, missing content) is a 400. "
        "A signature with a time-stamp (CAdES-T, or timestamp_token for raw) is judged at its time "
        "(valid_at): a certificate revoked after it still gives valid=true."
    ),
    responses={200: {"description": "The verdict"}, **ERROR_RESPONSES},
    tags=["signing"],
)
def verify_signature(request: VerifySignatureRequest) -> VerifySignatureResponse:
    result = services().verification.verify(
        principal(app),
        request.signature,
        SignatureFormat(request.format),
        request.signed_content(),
        request.certificate_pem,
        request.timestamp_token,
    )
    return VerifySignatureResponse.from_domain(result)


def refuse_before_parsing(event: dict[str, Any]) -> FincertError | None:
    """The JSON API's checks, with the verify call's own body limit: it takes back a whole
    signature with its evidence (fincert.api.verification_models.MAX_VERIFY_BODY_BYTES). Who may
    verify is judged first: a caller who may not gets 403 whatever its body, never a 4xx that
    tells it how the body would have been judged."""
    if event.get("resource") != VERIFY_PATH:
        return refuse_json(event, get_settings().max_body_bytes)
    try:
        require_institution(event_principal(event))
    except FincertError as refusal:
        return refusal
    return refuse_json(event, MAX_VERIFY_BODY_BYTES)


handler = lambda_handler(app, refuse_before_parsing)
