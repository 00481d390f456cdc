"""Seed a freshly started local stack: the CA certificates (signed through moto's KMS), the
delegated OCSP responder, and a demo institution allowed to do everything, whose API key is printed once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fincert.admin import bootstrap_ca, ensure_ocsp_responder
from fincert.domain.institutions import register_institution
from fincert.domain.model import Scope
from fincert.wiring import services, use_services

if TYPE_CHECKING:
    from fincert_local.stack import LocalStack

DEMO_INSTITUTION = "demo-bank"


def bootstrap(stack: LocalStack) -> dict:
    """Called by `up` once the resources exist; the dict returned is printed and saved in the state file."""
    use_services(None)  # built from the environment the stack just applied
    svc = services()
    bootstrap_ca(svc)
    ensure_ocsp_responder(svc)
    _, api_key = register_institution(
        svc.store,
        DEMO_INSTITUTION,
        "Demo Bank",
        [s.value for s in Scope],
        allowed_origins=[stack.gateway_url],
    )
    return {
        "institution_id": DEMO_INSTITUTION,
        "api_key": api_key,
        "ca_chain": f"{stack.gateway_url}/pki/chain.pem",
    }
