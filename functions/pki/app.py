"""Public PKI endpoints: the CA certificates (AIA caIssuers target) and the chain."""

from aws_lambda_powertools.event_handler import Response
from cryptography.hazmat.primitives.serialization import Encoding
from fincert.api.app import create_app, lambda_handler
from fincert.wiring import services

app = create_app()
_CACHE = "public, max-age=3600"


# Binary bodies: response validation would try to read DER as UTF-8 text.
@app.get("/pki/root-ca.crt", summary="Root CA certificate (DER)", tags=["pki"], enable_validation=False)
def root_ca() -> Response[bytes]:
    der = services().certificate_authority().root_certificate.public_bytes(Encoding.DER)
    return Response(200, content_type="application/pkix-cert", body=der, headers={"Cache-Control": _CACHE})


@app.get(
    "/pki/issuing-ca.crt",
    summary="Issuing CA certificate (DER), the AIA caIssuers target",
    tags=["pki"],
    enable_validation=False,
)
def issuing_ca() -> Response[bytes]:
    der = services().certificate_authority().issuing_certificate.public_bytes(Encoding.DER)
    return Response(200, content_type="application/pkix-cert", body=der, headers={"Cache-Control": _CACHE})


@app.get("/pki/chain.pem", summary="Issuing CA then root CA (PEM)", tags=["pki"])
def chain() -> Response[str]:
    pem = "".join(services().certificate_authority().chain_pem())
    return Response(200, content_type="application/x-pem-file", body=pem, headers={"Cache-Control": _CACHE})


handler = lambda_handler(app)
