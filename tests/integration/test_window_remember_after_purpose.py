"""'Remember this browser' comes after what the customer came for: once the window's issuance is
done (the ticket completed), its credential still registers the browser as a device, as
docs/hosted-window.md says of POST /v1/window/devices, and still lists the devices."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fincert.domain.institution_records import Scope
from fincert.domain.institutions import register_institution

from tests.support import log_safety
from tests.support.device_keys import spki_b64
from tests.support.in_process import Api
from tests.support.people import ENROLLMENT, PHONE, PIN
from tests.support.window import BANK_ORIGIN, opened


@pytest.fixture
def web_bank(gateway, svc, ca) -> Api:
    _, api_key = register_institution(
        svc.store, "web-bank", "Web Bank", [s.value for s in Scope], allowed_origins=[BANK_ORIGIN]
    )
    log_safety.remember_secret(api_key)
    return Api(gateway, api_key)


def test_a_browser_is_remembered_after_the_issuance_completed_the_ticket(web_bank):
    started = web_bank.post("/v1/enrollments", ENROLLMENT)
    assert started.status == 201, started.body
    window = opened(web_bank, "issue", enrollment_id=started.json()["enrollment_id"])
    issued = window.call(
        "POST",
        "/v1/window/issuance",
        {"sms_code": web_bank.last_sms_code(PHONE), "pin": PIN, "terms_accepted": True, "auto_renew": True},
    )
    assert issued.status == 201, issued.body
    assert web_bank.get(f"/v1/ui-tickets/{window.flow['ticket_id']}").json()["status"] == "completed"

    key = ec.generate_private_key(ec.SECP256R1())
    registered = window.call(
        "POST", "/v1/window/devices", {"name": "Web browser (Chrome, Linux)", "public_key": spki_b64(key)}
    )
    assert registered.status == 201, registered.body
    listed = window.call("GET", "/v1/window/devices")
    assert [d["device_id"] for d in listed.json()["devices"]] == [registered.json()["device_id"]]
    # What the window is for is done: nothing else opens again.
    assert window.call("POST", "/v1/window/issuance", {}).status in (410, 422)
