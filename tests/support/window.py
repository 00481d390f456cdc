"""The hosted window's flows as tests drive them over the API: the bank's back end mints a UI
ticket, and a `Window` plays the service's own page (redeem, then calls with its credential)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.support import log_safety
from tests.support.customers import Transport, transport_of

BANK_ORIGIN = "https://bank.example"


def mint(target: Any, purpose: str, origin: str = BANK_ORIGIN, api_key: str | None = None, **fields: Any):
    transport = transport_of(target)
    return transport.request(
        "POST", "/v1/ui-tickets", {"purpose": purpose, "origin": origin} | fields, api_key=api_key
    )


def minted(
    target: Any, purpose: str, origin: str = BANK_ORIGIN, api_key: str | None = None, **fields: Any
) -> dict:
    transport = transport_of(target)
    response = mint(transport, purpose, origin, api_key, **fields)
    assert transport.status(response) == 201, transport.text(response)
    body = response.json()
    log_safety.remember_secret(body["ticket"])
    return body


@dataclass
class Window:
    """The service's window for one ticket."""

    transport: Transport
    ticket: str
    token: str = ""
    flow: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.transport = transport_of(self.transport)

    def redeem(self, opener_origin: str = BANK_ORIGIN):
        response = self.transport.request(
            "POST", "/v1/window/redeem", {"ticket": self.ticket, "opener_origin": opener_origin}, api_key=""
        )
        if self.transport.status(response) == 201:
            self.token = response.json()["window_token"]
            self.flow = response.json()["flow"]
            log_safety.remember_secret(self.token)
        return response

    def call(self, method: str, path: str, json_body: Any = None):
        return self.transport.request(method, path, json_body, api_key=self.token)

    def connect(self, identity: dict[str, str], phone_e164: str):
        started = self.call("POST", "/v1/window/connections", identity)
        assert self.transport.status(started) == 201, self.transport.text(started)
        code = self.transport.sms_code(phone_e164)
        return self.call(
            "POST", f"/v1/window/connections/{started.json()['verification_id']}/confirm", {"sms_code": code}
        )

    def connect_device(self, handle: str, key: ec.EllipticCurvePrivateKey, *, raw: bool = True):
        """As a remembered browser: WebCrypto signs with r || s (raw), other clients with DER."""
        started = self.call("POST", "/v1/window/device-connections", {"device_handle": handle})
        assert self.transport.status(started) == 201, self.transport.text(started)
        challenge = base64.b64decode(started.json()["challenge"])
        der = key.sign(challenge, ec.ECDSA(hashes.SHA256()))
        if raw:
            r, s = decode_dss_signature(der)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            signature = der
        return self.call(
            "POST",
            f"/v1/window/device-connections/{started.json()['challenge_id']}/confirm",
            {"signature": base64.b64encode(signature).decode()},
        )


def opened(
    target: Any, purpose: str, origin: str = BANK_ORIGIN, api_key: str | None = None, **fields: Any
) -> Window:
    """A window that redeemed a fresh ticket of this purpose."""
    ticket = minted(target, purpose, origin, api_key, **fields)
    window = Window(target, ticket["ticket"])
    response = window.redeem(origin)
    assert window.transport.status(response) == 201, window.transport.text(response)
    window.flow["ticket_id"] = ticket["ticket_id"]
    return window
