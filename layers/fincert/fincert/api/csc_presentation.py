"""How CSC v1 `credentials/info` presents a credential: its key, its certificate (with the chain
and the DN/validity details the request asks for) and its PIN; and the API's own base URL, as the
caller reached it, for the URLs `info` names."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from fincert.api.csc_models import CertInfo, CredentialsInfoRequest, CredentialsInfoResponse, KeyInfo, PinInfo
from fincert.crypto.keys import KeyAlgorithm, certificate_public_key
from fincert.crypto.signatures import KEY_ALGORITHM_OIDS
from fincert.domain.account_records import Credential
from fincert.domain.signing import MAX_SIGNATURES_PER_SAD

_P256_OID = "1.2.840.10045.3.1.7"


def api_base_url(event: Mapping[str, Any]) -> str:
    """The API's base URL as this request reached it. The execute-api host carries the stage as
    the path's first segment; a custom domain maps the stage at its root (no base path), and so
    does the local gateway. API Gateway always sends X-Forwarded-Proto (https); the local gateway
    serves plain http and sends none."""
    context = event.get("requestContext") or {}
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    host = str(context.get("domainName") or headers.get("host") or "localhost")
    scheme = str(headers.get("x-forwarded-proto") or "http").split(",")[0].strip().lower()
    if scheme not in ("http", "https"):
        scheme = "https"
    stage = context.get("stage")
    prefix = f"/{stage}" if stage and ".execute-api." in host else ""
    return f"{scheme}://{host}{prefix}"


def _csc_time(moment: datetime) -> str:
    # CSC v1 uses GeneralizedTime strings for validFrom / validTo.
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def credential_info(
    request: CredentialsInfoRequest, credential: Credential, ca_chain: list[x509.Certificate], now: datetime
) -> CredentialsInfoResponse:
    certificate = x509.load_der_x509_certificate(credential.certificate_der)
    status = credential.state(now)
    chain = {"none": [], "single": [certificate], "chain": [certificate, *ca_chain]}[request.certificates]
    cert = CertInfo(
        status=status,
        certificates=[base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in chain] or None,
    )
    if request.certInfo:
        cert = cert.model_copy(
            update={
                "issuerDN": certificate.issuer.rfc4514_string(),
                "serialNumber": format(certificate.serial_number, "x"),
                "subjectDN": certificate.subject.rfc4514_string(),
                "validFrom": _csc_time(credential.not_before),
                "validTo": _csc_time(credential.not_after),
            }
        )
    algorithm = KeyAlgorithm(credential.key_algorithm)
    key = KeyInfo(
        status="enabled" if status == "valid" else "disabled",
        algo=[str(oid) for oid in KEY_ALGORITHM_OIDS[algorithm]],
        len=certificate_public_key(certificate).key_size,
        curve=_P256_OID if algorithm == KeyAlgorithm.EC_P256 else None,
    )
    pin = PinInfo(presence="true", format="N", label="PIN", description="금융인증서 6자리 PIN")
    return CredentialsInfoResponse(
        key=key,
        cert=cert,
        authMode="explicit",
        PIN=pin if request.authInfo else None,
        multisign=MAX_SIGNATURES_PER_SAD,
        SCAL="1",
    )
