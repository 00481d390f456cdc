"""FinCert-style signing for bank frontends: the customer's session token, the content as shown,
the sign type and the PIN -> CMS SignedData (attached or detached) or a raw signature; and the
verify call a relying party's back end makes with its API key."""

import base64

from aws_lambda_powertools.event_handler import Response
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fincert.api.app import create_app, lambda_handler, principal
from fincert.api.models import ERROR_RESPONSES, SignContentRequest, SignContentResponse
from fincert.api.security import CUSTOMER, INSTITUTION
from fincert.api.verification_models import VerifySignatureRequest, VerifySignatureResponse
from fincert.domain.signing import SignatureFormat, SignType
from fincert.wiring import services

app = create_app()


@app.post(
    "/v1/signatures",
    security=CUSTOMER,
    summary="Sign content with the customer's certificate (PIN required for every signature)",
    responses={201: {"description": "Signed"}, **ERROR_RESPONSES},
    tags=["signing"],
)
def sign_content(request: SignContentRequest) -> Response[SignContentResponse]:
    svc = services()
    signed = svc.signing.sign_content(
        principal(app),
        request.content,
        SignType(request.sign_type),
        SignatureFormat(request.format),
        request.pin,
        request.credential_id,
    )
    certificate = x509.load_der_x509_certificate(signed.credential.certificate_der)
    body = SignContentResponse(
        signature=base64.b64encode(signed.signature).decode(),
        format=signed.signature_format.value,
        credential_id=signed.credential.credential_id,
        certificate_pem=certificate.public_bytes(Encoding.PEM).decode(),
        chain_pem=svc.certificate_authority().chain_pem(),
    )
    return Response(201, body=body, content_type="application/json")


@app.post(
    "/v1/signatures/verify",
    security=INSTITUTION,
    summary="Verify a signature: its value, its certificate's chain to this CA, and the certificate's status",
    description=(
        "Institution API key only. An invalid signature is a 200 with valid=false and reason codes; "
        "only input that cannot be judged (not base64, not CMS SignedData, missing content) is a 400."
    ),
    responses={200: {"description": "The verdict"}, **ERROR_RESPONSES},
    tags=["signing"],
)
def verify_signature(request: VerifySignatureRequest) -> VerifySignatureResponse:
    result = services().verification.verify(
        principal(app),
        request.signature,
        SignatureFormat(request.format),
        request.content,
        request.certificate_pem,
    )
    return VerifySignatureResponse.from_domain(result)


handler = lambda_handler(app)
