"""Public PKI endpoints: the CA certificates (AIA caIssuers target) and the chain, the OCSP
responder (RFC 6960, POST and GET) and the CRLs (RFC 5280, one per partition, and the root's);
and the service's health check, which asks what these routes need: the CA.

The OCSP and CRL code (fincert.domain.revocation_status) is imported by the routes that use it,
not here: the certificate routes' cold start does not pay for it."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.serialization import Encoding
from fincert import errors
from fincert.api.app import create_app, lambda_handler
from fincert.api.events import header, media_type
from fincert.api.routing import Response
from fincert.crypto.ocsp_limits import MAX_GET_REQUEST_CHARS, MAX_REQUEST_SIZE
from fincert.wiring import services

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import (
        OpenAPIResponse,
        OpenAPIResponseContentModel,
        OpenAPIResponseContentSchema,
    )

app = create_app(validation=False)
_CACHE = "public, max-age=3600"
# The error body's schema by reference: the model itself is pydantic, which this function avoids.
_ERROR_BODY: dict[str, OpenAPIResponseContentSchema | OpenAPIResponseContentModel] = {
    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
}
_UNAVAILABLE: dict[int, OpenAPIResponse] = {
    503: {"description": "CA not bootstrapped yet, or storage unavailable", "content": _ERROR_BODY}
}
_DER: dict[int, OpenAPIResponse] = {
    200: {"description": "DER certificate", "content": {"application/pkix-cert": {}}},
    **_UNAVAILABLE,
}
_PEM: dict[int, OpenAPIResponse] = {
    200: {"description": "PEM certificates", "content": {"application/x-pem-file": {}}},
    **_UNAVAILABLE,
}
_CRL: dict[int, OpenAPIResponse] = {
    200: {"description": "DER CRL", "content": {"application/pkix-crl": {}}},
    404: {"description": "no such CRL (not a live partition)", "content": _ERROR_BODY},
    **_UNAVAILABLE,
}
_OCSP: dict[int, OpenAPIResponse] = {
    200: {
        "description": "DER OCSPResponse: good / revoked / unknown, or malformedRequest / unauthorized"
        " (RFC 6960 2.3: errors are OCSP responses too)",
        "content": {"application/ocsp-response": {}},
    },
    413: {"description": f"request larger than {MAX_REQUEST_SIZE} bytes", "content": _ERROR_BODY},
    415: {"description": "POST body not application/ocsp-request", "content": _ERROR_BODY},
    **_UNAVAILABLE,
}
_OCSP_REQUEST = "application/ocsp-request"
# Answers are signed per query from the current record: a cache between us and the client
# would keep serving a "good" after a revocation.
_NO_CACHE = "no-cache"


@app.get(
    "/pki/root-ca.crt",
    summary="Root CA certificate (DER)",
    tags=["pki"],
    description="The root CA certificate, DER. Cached by clients and shared caches for an hour.",
    responses=_DER,
)
def root_ca() -> Response[bytes]:
    der = services().certificate_authority().root_certificate.public_bytes(Encoding.DER)
    return Response(200, content_type="application/pkix-cert", body=der, headers={"Cache-Control": _CACHE})


@app.get(
    "/pki/issuing-ca.crt",
    summary="Issuing CA certificate (DER), the AIA caIssuers target",
    tags=["pki"],
    description="The issuing CA certificate, DER: the URL in every subscriber certificate's AIA caIssuers.",
    responses=_DER,
)
def issuing_ca() -> Response[bytes]:
    der = services().certificate_authority().issuing_certificate.public_bytes(Encoding.DER)
    return Response(200, content_type="application/pkix-cert", body=der, headers={"Cache-Control": _CACHE})


@app.get(
    "/pki/chain.pem",
    summary="Issuing CA then root CA (PEM)",
    tags=["pki"],
    description="The issuing CA then the root CA, PEM: what `chain_pem` in the API's answers holds.",
    responses=_PEM,
)
def chain() -> Response[str]:
    pem = services().certificate_authority().chain_pem()
    return Response(200, content_type="application/x-pem-file", body=pem, headers={"Cache-Control": _CACHE})


# --- health ----------------------------------------------------------------------------------
_HEALTH: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The API and its functions are up and the CA is bootstrapped",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["ok"]},
                        "certificate_authority": {"type": "string", "enum": ["ready"]},
                    },
                    "required": ["status", "certificate_authority"],
                },
                "examples": {"ok": {"value": {"status": "ok", "certificate_authority": "ready"}}},
            }
        },
    },
    503: {
        "description": "`service_unavailable`: the CA is not bootstrapped yet, or DynamoDB is unavailable "
        "(Retry-After)",
        "content": _ERROR_BODY,
    },
}


@app.get(
    "/v1/health",
    summary="Health check: public, cheap, for load balancers and uptime monitors",
    description="Reads the CA the way the PKI routes do: from this container's memory once loaded, so a "
    "warm container makes no AWS call; a cold one makes one DynamoDB GetItem. 200 says API Gateway, "
    "Lambda, the layer and the table answer and the CA is bootstrapped; it does not sign anything "
    "(KMS is not called). Never cached.",
    tags=["health"],
    responses=_HEALTH,
)
def health() -> Response[dict[str, str]]:
    services().certificate_authority()
    return Response(
        200,
        content_type="application/json",
        body={"status": "ok", "certificate_authority": "ready"},
        headers={"Cache-Control": "no-store"},
    )


# --- revocation status -----------------------------------------------------------------------
def _ocsp_response(der: bytes) -> Response[bytes]:
    return Response(
        200, content_type="application/ocsp-response", body=der, headers={"Cache-Control": _NO_CACHE}
    )


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    # A gateway that passed the bytes as text (not a binary media type) passed valid UTF-8.
    return body.encode("utf-8")


@app.post(
    "/pki/ocsp",
    summary="OCSP responder (RFC 6960), DER request in the body",
    tags=["pki"],
    description="RFC 6960 OCSP over POST: a DER OCSPRequest in, a DER OCSPResponse out, signed by the delegated responder from the serial's record, so a revocation shows in the very next answer. Nonces are echoed. Never cached.",
    responses=_OCSP,
)
def ocsp_post() -> Response[bytes]:
    return _ocsp_response(services().revocation_status.ocsp(_raw_body(app.current_event.raw_event)))


@app.get(
    "/pki/ocsp/<request>",
    summary="OCSP responder (RFC 6960 A.1 GET): the URL-encoded base64 DER request as the path",
    description="The request may contain '/' (base64): the route is greedy ({request+}).",
    tags=["pki"],
    responses=_OCSP,
)
def ocsp_get(request: str) -> Response[bytes]:
    return _ocsp_get()


# Base64 contains "/": a client that does not URL-encode it sends more path segments, which
# API Gateway's greedy {request+} accepts and the resolver's <request> does not.
@app.get("/pki/ocsp/.+", include_in_schema=False)
def ocsp_get_with_slashes() -> Response[bytes]:
    return _ocsp_get()


def _ocsp_get() -> Response[bytes]:
    from fincert.domain.revocation_status import decode_get_request

    encoded = (app.current_event.path_parameters or {}).get("request", "")
    return _ocsp_response(services().revocation_status.ocsp(decode_get_request(encoded)))


@app.get(
    "/pki/crl/<name>",
    summary="CRL of one partition (DER), the URL in a certificate's cRLDistributionPoints",
    description="name is '<ISO year>-w<ISO week of the certificate's notAfter>.crl', e.g. 2029-w47.crl",
    tags=["pki"],
    responses=_CRL,
)
def crl(name: str) -> Response[bytes]:
    partition = name.removesuffix(".crl")
    der = services().revocation_status.crl(partition) if name.endswith(".crl") else None
    if der is None:
        raise errors.NotFound("no such CRL", code="crl_not_found")
    return _crl_response(der)


@app.get(
    "/pki/root.crl",
    summary="Root CA CRL (DER), the issuing CA certificate's cRLDistributionPoints",
    tags=["pki"],
    description="The root CA's CRL (DER): the URL in the issuing CA certificate's cRLDistributionPoints. Rebuilt every 6 hours.",
    responses=_CRL,
)
def root_crl() -> Response[bytes]:
    return _crl_response(services().revocation_status.root_crl())


def _crl_response(der: bytes) -> Response[bytes]:
    # Shared caches may keep it a few minutes: a container rebuilds it every 10 minutes anyway.
    return Response(
        200, content_type="application/pkix-crl", body=der, headers={"Cache-Control": "public, max-age=300"}
    )


def refuse_before_parsing(event: dict[str, Any]) -> errors.FincertError | None:
    """OCSP requests are DER, not JSON: too large is 413, a POST body that is not
    application/ocsp-request is 415 (RFC 6960 A.1), before anything parses them."""
    resource = event.get("resource") or ""
    if not resource.startswith("/pki/ocsp"):
        return None
    body = event.get("body") or ""
    try:
        size = len(base64.b64decode(body)) if event.get("isBase64Encoded") else len(body.encode("utf-8"))
    except (binascii.Error, ValueError):
        return errors.InvalidRequest("the body is not valid base64", code="malformed_body")
    if size > MAX_REQUEST_SIZE:
        return errors.PayloadTooLarge(f"an OCSP request must be at most {MAX_REQUEST_SIZE} bytes")
    if event.get("httpMethod") == "POST" and size:
        # An empty POST is answered malformedRequest like any other unparseable request.
        if media_type(header(event, "content-type")) != _OCSP_REQUEST:
            return errors.UnsupportedMediaType(f"send the OCSP request as {_OCSP_REQUEST}")
    else:
        path = (event.get("pathParameters") or {}).get("request") or ""
        # RFC 6960 A.1 GET is for small requests; a larger one is POSTed.
        if len(path) > MAX_GET_REQUEST_CHARS:
            return errors.PayloadTooLarge(f"an OCSP GET request must fit {MAX_REQUEST_SIZE} bytes of DER")
    return None


handler = lambda_handler(app, refuse_before_parsing)
