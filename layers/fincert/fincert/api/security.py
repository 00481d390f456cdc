"""The three kinds of bearer token, as the OpenAPI document names them (each route declares the
one it takes; the authorizer accepts all three and the handlers refuse the wrong kind)."""

from __future__ import annotations

from typing import Any

INSTITUTION_KEY = "institutionApiKey"
CUSTOMER_SESSION = "customerSession"
WINDOW_CREDENTIAL = "windowCredential"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    INSTITUTION_KEY: {
        "type": "http",
        "scheme": "bearer",
        "description": "The institution's API key, `fck_<institution>_<secret>`: its back end only.",
    },
    CUSTOMER_SESSION: {
        "type": "http",
        "scheme": "bearer",
        "description": "A customer session token, `fcs.<institution>.<account>.<session>.<secret>`: one customer through "
        "one institution (CSC clients, the bank's page, its back end).",
    },
    WINDOW_CREDENTIAL: {
        "type": "http",
        "scheme": "bearer",
        "description": "The service's own window's credential for one UI ticket, `fcw.<institution>.<ticket>.<secret>` "
        "(docs/hosted-window.md).",
    },
}

INSTITUTION: list[dict[str, list[str]]] = [{INSTITUTION_KEY: []}]
CUSTOMER: list[dict[str, list[str]]] = [{CUSTOMER_SESSION: []}]
WINDOW: list[dict[str, list[str]]] = [{WINDOW_CREDENTIAL: []}]
