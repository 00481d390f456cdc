"""Public PKI endpoints: the CA certificates (AIA caIssuers target) and the chain."""

from aws_lambda_powertools.event_handler import Response
from cryptography.hazmat.primitives.serialization import Encoding
from fincert.api.app import create_app, lambda_handler
from fincert.wiring import services

app = create_app(validation=False)
_CACHE = "public, max-age=3600"
# The error body's schema by reference: the model itself is pydantic, which this function avoids.
_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
_UNAVAILABLE = {
    503: {"description": "CA not bootstrapped yet, or storage unavailable", "content": _ERROR_BODY}
}
_DER = {200: {"description": "DER certificate", "content": {"application/pkix-cert": {}}}, **_UNAVAILABLE}
_PEM = {200: {"description": "PEM certificates", "content": {"application/x-pem-file": {}}}, **_UNAVAILABLE}


@app.get("/pki/root-ca.crt", summary="Root CA certificate (DER)", tags=["pki"], responses=_DER)
def root_ca() -> Response[bytes]:
    der = services().certificate_authority().root_certificate.public_bytes(Encoding.DER)
    return Response(200, content_type="application/pkix-cert", body=der, headers={"Cache-Control": _CACHE})


@app.get(
    "/pki/issuing-ca.crt",
    summary="Issuing CA certificate (DER), the AIA caIssuers target",
    tags=["pki"],
    responses=_DER,
)
def issuing_ca() -> Response[bytes]:
    der = services().certificate_authority().issuing_certificate.public_bytes(Encoding.DER)
    return Response(200, content_type="application/pkix-cert", body=der, headers={"Cache-Control": _CACHE})


@app.get("/pki/chain.pem", summary="Issuing CA then root CA (PEM)", tags=["pki"], responses=_PEM)
def chain() -> Response[str]:
    pem = "".join(services().certificate_authority().chain_pem())
    return Response(200, content_type="application/x-pem-file", body=pem, headers={"Cache-Control": _CACHE})


handler = lambda_handler(app)
