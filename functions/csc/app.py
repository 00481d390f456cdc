"""Cloud Signature Consortium API v1 (remote signing), for CSC clients such as pyHanko's
CSCSigner, iText or SetaPDF. Every call but `info` takes the customer's session token as its
bearer token; errors use CSC's {"error", "error_description"} shape."""

import base64

from fincert.api.app import create_app, lambda_handler, principal
from fincert.api.csc_models import (
    AuthorizeRequest,
    AuthorizeResponse,
    CredentialsInfoRequest,
    CredentialsInfoResponse,
    CredentialsListRequest,
    CredentialsListResponse,
    CscErrorResponse,
    InfoRequest,
    InfoResponse,
    SignHashRequest,
    SignHashResponse,
)
from fincert.api.csc_presentation import api_base_url, credential_info
from fincert.api.errors import csc_error_body
from fincert.api.models import ErrorResponse, error_responses, with_pin_refusals
from fincert.api.security import CUSTOMER
from fincert.errors import InvalidRequest
from fincert.wiring import services

app = create_app(error_body=csc_error_body)
_ERRORS = error_responses(
    CscErrorResponse,
    {
        400: "Invalid request (wrong PIN, invalid SAD or hash, unsupported algorithm)",
        401: "Missing or invalid session token",  # API Gateway's answer: see below
        403: "Not allowed (PIN locked, certificate not active or not registered here)",
        404: "No such credential",
        409: "Conflicts with the current state",
        410: "Expired",
        413: "Body too large",
        415: "Body is not JSON",
        422: "Body does not match the schema",
        503: "A dependency is unavailable; retry after Retry-After seconds",
    },
)
# 401s come from API Gateway's authorizer response, before this function: the service-wide shape.
_ERRORS[401] = {
    "description": "Missing or invalid session token",
    "content": {"application/json": {"model": ErrorResponse}},
}


@app.post(
    "/csc/v1/info",
    summary="Service information",
    description="CSC API v1 `info`: the service's name, region, languages and the methods it implements, and (vendor extension `x-fincert-tsa-url`) the RFC 3161 time-stamping service's URL. Needs no token.",
    responses={200: {"description": "OK"}, **_ERRORS},
    tags=["csc"],
)
def info(request: InfoRequest) -> InfoResponse:
    base = services().settings.pki_base_url
    return InfoResponse(
        specs="1.0.4.0",
        name="fincert-cloud",
        logo=f"{base}/pki/chain.pem",
        region="KR",
        lang="ko-KR",
        description="Cloud-held financial certificates (금융인증서)",
        authType=["external"],
        methods=["credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"],
        tsa_url=f"{api_base_url(app.current_event.raw_event)}/v1/timestamps",
    )


@app.post(
    "/csc/v1/credentials/list",
    security=CUSTOMER,
    summary="The customer's credentials usable here",
    description="CSC API v1 `credentials/list`: the customer's active credential, if its certificate is registered with the session's institution; otherwise an empty list.",
    responses={200: {"description": "OK"}, **_ERRORS},
    tags=["csc"],
)
def credentials_list(request: CredentialsListRequest) -> CredentialsListResponse:
    return CredentialsListResponse(credentialIDs=services().signing.list_credentials(principal(app)))


@app.post(
    "/csc/v1/credentials/info",
    security=CUSTOMER,
    summary="A credential's key, certificate and PIN",
    description="CSC API v1 `credentials/info`: the key (algorithm OIDs, length, curve), the certificate (none, itself or the chain; with `certInfo` its DNs, serial and validity) and, with `authInfo`, the PIN's description.",
    responses={200: {"description": "OK"}, **_ERRORS},
    tags=["csc"],
)
def credentials_info(request: CredentialsInfoRequest) -> CredentialsInfoResponse:
    signing = services().signing
    credential = signing.credential(principal(app), request.credentialID)
    return credential_info(request, credential, signing.chain(), services().clock.now())


@app.post(
    "/csc/v1/credentials/authorize",
    security=CUSTOMER,
    summary="PIN -> SAD for numSignatures signatures (bound to the given hashes, if any), valid 5 minutes",
    description="CSC API v1 `credentials/authorize`: checks the PIN (one attempt; 5 wrong ones lock it) and returns a SAD good for `numSignatures` signatures within 5 minutes, bound to `hash` when given. Written to the customer's history, success or failure.",
    responses={200: {"description": "OK"}, **with_pin_refusals(_ERRORS, details=False)},
    tags=["csc"],
)
def credentials_authorize(request: AuthorizeRequest) -> AuthorizeResponse:
    if request.OTP is not None:
        raise InvalidRequest("this service authorizes with the PIN only", code="otp_unsupported")
    authorization = services().signing.authorize(
        principal(app), request.credentialID, request.PIN, request.numSignatures, request.hash
    )
    return AuthorizeResponse(SAD=authorization.sad, expiresIn=authorization.expires_in)


@app.post(
    "/csc/v1/signatures/signHash",
    security=CUSTOMER,
    summary="Sign SHA-256 hashes with a SAD (RSASSA-PKCS1-v1_5, RSASSA-PSS or ECDSA)",
    description="CSC API v1 `signatures/signHash`: signs each base64 SHA-256 hash with the credential's key (RSASSA-PKCS1-v1_5 `1.2.840.113549.1.1.11`, RSASSA-PSS with `signAlgoParams`, or ECDSA `1.2.840.10045.4.3.2`) and spends the SAD in the same step; one history line.",
    responses={200: {"description": "OK"}, **_ERRORS},
    tags=["csc"],
)
def signatures_sign_hash(request: SignHashRequest) -> SignHashResponse:
    params = None
    if request.signAlgoParams is not None:
        try:
            params = base64.b64decode(request.signAlgoParams, validate=True)
        except ValueError:
            raise InvalidRequest(
                "signAlgoParams must be base64 DER", code="sign_algo_params_invalid"
            ) from None
    signatures = services().signing.sign_hashes(
        principal(app),
        request.credentialID,
        request.SAD,
        request.hash,
        request.signAlgo,
        request.hashAlgo,
        params,
    )
    return SignHashResponse(signatures=[base64.b64encode(s).decode() for s in signatures])


handler = lambda_handler(app, error_body=csc_error_body)
