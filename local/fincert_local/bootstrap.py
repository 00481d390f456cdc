"""Seed a freshly started local stack: the CA certificates (signed through moto's KMS), the
delegated OCSP responder, the time-stamping authority's certificate, a demo institution allowed to do everything, whose API key is printed
once, and (when the demo bank site runs) the institution behind that site, registered with the
site's origin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fincert.admin import bootstrap_ca, ensure_ocsp_responder, ensure_timestamp_authority
from fincert.domain.institution_records import Scope
from fincert.domain.institutions import register_institution
from fincert.wiring import services, use_services

from fincert_local import demo_bank

if TYPE_CHECKING:
    from fincert_local.stack import LocalStack

DEMO_INSTITUTION = "demo-bank"


def bootstrap(stack: LocalStack, demo_site_origin: str | None = None) -> dict:
    """Called by `up` once the resources exist; the dict returned is printed and saved in the state
    file. `demo_site_origin`: the demo bank site's origin (fincert_local.demo_bank), whose
    institution is registered with it; its API key goes to the state file, not to the console."""
    use_services(None)  # built from the environment the stack just applied
    svc = services()
    bootstrap_ca(svc)
    ensure_ocsp_responder(svc)
    ensure_timestamp_authority(svc)
    _, api_key = register_institution(
        svc.store,
        DEMO_INSTITUTION,
        "Demo Bank",
        [s.value for s in Scope],
        allowed_origins=[stack.gateway_url],
    )
    output = {
        "institution_id": DEMO_INSTITUTION,
        "api_key": api_key,
        "ca_chain": f"{stack.gateway_url}/pki/chain.pem",
        "tsa_url": f"{stack.gateway_url}/v1/timestamps",
    }
    if demo_site_origin is not None:
        # A separate institution, so the API demo (make demo, make sandbox, the e2e tests) keeps
        # sending PINs the way it does while the site shows the hosted window.
        _, site_key = register_institution(
            svc.store,
            demo_bank.INSTITUTION_ID,
            demo_bank.INSTITUTION_NAME,
            [s.value for s in Scope],
            allowed_origins=[demo_site_origin],
            # Its servers provably never see a PIN or an SMS code: only the window takes them.
            hosted_only=True,
        )
        output["demo_site"] = {
            "institution_id": demo_bank.INSTITUTION_ID,
            "origin": demo_site_origin,
            "api_key": site_key,
        }
    return output
