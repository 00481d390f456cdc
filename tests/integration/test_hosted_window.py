"""The hosted window's API (docs/hosted-window.md): a bank's back end mints a UI ticket, the
service's own window redeems it once, for the ticket's origin only, and does exactly the
ticket's purpose for its institution; the bank's back end reads the outcome from the service."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fincert.domain.institution_records import Scope
from fincert.domain.institutions import register_institution
from fincert.wiring import Services, use_services

from tests.support import log_safety
from tests.support.customers import Customer
from tests.support.device_keys import spki_b64
from tests.support.in_process import REGION, Api, recorded_sms
from tests.support.people import CUSTOMER, ENROLLMENT, PHONE, PIN
from tests.support.table import table_items
from tests.support.verifiers import openssl_cms_verify
from tests.support.window import BANK_ORIGIN, Window, mint, minted, opened


@pytest.fixture
def bank_api(gateway, svc, ca) -> Api:
    """A bank whose web page is at BANK_ORIGIN, with every scope."""
    _, api_key = register_institution(
        svc.store, "web-bank", "Web Bank", [s.value for s in Scope], allowed_origins=[BANK_ORIGIN]
    )
    log_safety.remember_secret(api_key)
    return Api(gateway, api_key)


def error(response) -> tuple[int, str]:
    return response.status, response.json()["error"]["code"]


def start_enrollment(api: Api, **overrides) -> str:
    started = api.post("/v1/enrollments", ENROLLMENT | overrides)
    assert started.status == 201, started.body
    return started.json()["enrollment_id"]


def issued_in_window(bank_api: Api, *, auto_renew: bool = False) -> tuple[Window, dict]:
    window = opened(bank_api, "issue", enrollment_id=start_enrollment(bank_api, auto_renew=not auto_renew))
    code = bank_api.last_sms_code(PHONE)
    response = window.call(
        "POST",
        "/v1/window/issuance",
        {"sms_code": code, "pin": PIN, "terms_accepted": True, "auto_renew": auto_renew},
    )
    assert response.status == 201, response.body
    return window, response.json()


# --- minting -------------------------------------------------------------------------------------
def test_a_ticket_names_a_registered_origin_and_only_its_purpose_fields(bank_api):
    assert error(mint(bank_api, "connect", origin="https://evil.example")) == (400, "origin_not_registered")
    assert error(mint(bank_api, "issue")) == (400, "ticket_fields_invalid")
    assert error(mint(bank_api, "connect", enrollment_id="enr_AAAAAAAAAAAAAAAAAAAAAA")) == (
        400,
        "ticket_fields_invalid",
    )
    assert error(mint(bank_api, "sign")) == (400, "ticket_fields_invalid")
    assert error(mint(bank_api, "issue", enrollment_id="enr_AAAAAAAAAAAAAAAAAAAAAA")) == (
        404,
        "enrollment_not_found",
    )
    too_big = {"sign_type": "transfer", "contents": [{"text": "가" * 2731}]}  # 8193 bytes in UTF-8
    assert error(mint(bank_api, "sign", sign=too_big)) == (400, "content_too_large")
    eleven = {"sign_type": "transfer", "contents": [{"text": "x"}] * 11}
    assert mint(bank_api, "sign", sign=eleven).status == 422
    assert not [item for item in table_items() if item["pk"].startswith("TICKET#")]


def test_another_banks_enrollment_cannot_be_put_in_a_ticket(bank_api, api):
    enrollment_id = start_enrollment(api)  # demo-bank's
    assert error(mint(bank_api, "issue", enrollment_id=enrollment_id)) == (404, "enrollment_not_found")


def test_a_customer_session_cannot_mint_tickets(bank_api):
    customer = Customer(bank_api)
    customer.issue()
    customer.connect()
    response = customer.call("POST", "/v1/ui-tickets", {"purpose": "connect", "origin": BANK_ORIGIN})
    assert error(response) == (403, "institution_key_required")


# --- redeeming -----------------------------------------------------------------------------------
def test_a_ticket_is_redeemed_once_and_only_for_its_origin(bank_api):
    ticket = minted(bank_api, "connect")
    window = Window(bank_api, ticket["ticket"])
    assert error(window.redeem("https://evil.example")) == (403, "origin_mismatch")
    redeemed = window.redeem(BANK_ORIGIN)  # the refusal spent nothing
    assert redeemed.status == 201, redeemed.body
    flow = redeemed.json()["flow"]
    assert flow["purpose"] == "connect"
    assert flow["institution_name"] == "Web Bank"
    assert flow["origin"] == BANK_ORIGIN
    assert flow["connected"] is False
    assert error(Window(bank_api, ticket["ticket"]).redeem()) == (409, "ticket_used")
    assert bank_api.get(f"/v1/ui-tickets/{ticket['ticket_id']}").json()["status"] == "open"


def test_a_forged_or_late_ticket_opens_nothing(bank_api, clock):
    ticket = minted(bank_api, "connect")
    forged = ticket["ticket"][:-4] + ("AAAA" if not ticket["ticket"].endswith("AAAA") else "BBBB")
    assert error(Window(bank_api, forged).redeem()) == (401, "ticket_invalid")
    assert error(Window(bank_api, "not a ticket").redeem()) == (401, "ticket_invalid")
    clock.at += timedelta(minutes=3)
    assert error(Window(bank_api, ticket["ticket"]).redeem()) == (410, "ticket_expired")
    assert bank_api.get(f"/v1/ui-tickets/{ticket['ticket_id']}").json()["status"] == "expired"


def test_window_credentials_and_api_keys_each_keep_to_their_own_routes(bank_api):
    window = opened(bank_api, "connect")
    assert error(window.call("POST", "/v1/enrollments", ENROLLMENT)) == (
        403,
        "window_credential_not_accepted",
    )
    assert error(window.call("POST", "/v1/connections", CUSTOMER)) == (403, "window_credential_not_accepted")
    assert error(window.call("GET", "/v1/devices")) == (403, "window_credential_not_accepted")
    assert error(window.call("POST", "/v1/ui-tickets", {"purpose": "connect", "origin": BANK_ORIGIN})) == (
        403,
        "window_credential_not_accepted",
    )
    assert error(bank_api.get("/v1/window")) == (403, "window_credential_required")
    assert (
        bank_api.get("/v1/window", api_key="fcw.demo-bank.tkt_AAAAAAAAAAAAAAAAAAAAAA." + "A" * 43).status
        == 401
    )


def test_a_window_does_only_what_its_ticket_was_minted_for(bank_api):
    window = opened(bank_api, "connect")
    body = {"sms_code": "123456", "pin": PIN, "terms_accepted": True, "auto_renew": False}
    assert error(window.call("POST", "/v1/window/issuance", body)) == (403, "window_purpose_mismatch")
    manage = opened(bank_api, "manage")
    assert error(manage.call("POST", "/v1/window/connect-code")) == (403, "window_purpose_mismatch")
    assert error(manage.call("GET", "/v1/window/devices")) == (403, "window_not_connected")


# --- issuance through the window ---------------------------------------------------------------
def test_the_window_issues_with_the_customers_own_answers_and_the_bank_reads_the_outcome(bank_api, svc):
    window, issued = issued_in_window(bank_api, auto_renew=False)  # the bank's start said True
    assert issued["auto_renew"] is False
    assert issued["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    status = bank_api.get(f"/v1/ui-tickets/{window.flow['ticket_id']}").json()
    assert status["status"] == "completed"
    assert status["outcome"] == {
        "credential_id": issued["credential_id"],
        "serial_number": issued["serial_number"],
    }
    flow = window.call("GET", "/v1/window").json()
    assert flow["connected"] is True
    assert flow["certificate"]["credential_id"] == issued["credential_id"]
    assert flow["certificate"]["subject"].startswith("홍길동")
    # Done: the same window cannot issue again.
    again = {"sms_code": "000000", "pin": PIN, "terms_accepted": True, "auto_renew": False}
    assert error(window.call("POST", "/v1/window/issuance", again)) == (410, "window_closed")


def test_the_window_refuses_issuance_without_the_terms_and_keeps_the_enrollment_open(bank_api):
    window = opened(bank_api, "issue", enrollment_id=start_enrollment(bank_api))
    code = bank_api.last_sms_code(PHONE)
    body = {"sms_code": code, "pin": PIN, "terms_accepted": False, "auto_renew": True}
    assert error(window.call("POST", "/v1/window/issuance", body)) == (400, "terms_not_accepted")
    weak = body | {"terms_accepted": True, "pin": "111111"}
    assert error(window.call("POST", "/v1/window/issuance", weak)) == (400, "pin_repeated_digits")
    good = body | {"terms_accepted": True}
    assert window.call("POST", "/v1/window/issuance", good).status == 201


# --- connection, connect codes, devices --------------------------------------------------------------
def test_a_connect_window_hands_the_bank_a_code_for_a_session_once(bank_api, other_bank):
    Customer(bank_api).issue()
    window = opened(bank_api, "connect")
    connected_flow = window.connect(CUSTOMER, PHONE)
    assert connected_flow.status == 200, connected_flow.body
    assert connected_flow.json()["connected"] is True
    answer = window.call("POST", "/v1/window/connect-code").json()
    log_safety.remember_secret(answer["code"])
    ticket_id = answer["ticket_id"]

    other = bank_api.post(
        f"/v1/ui-tickets/{ticket_id}/session", {"code": answer["code"]}, api_key=other_bank["api_key"]
    )
    assert error(other) == (404, "ticket_not_found")
    wrong = bank_api.post(f"/v1/ui-tickets/{ticket_id}/session", {"code": "x" * 32})
    assert error(wrong) == (400, "connect_code_invalid")
    session = bank_api.post(f"/v1/ui-tickets/{ticket_id}/session", {"code": answer["code"]})
    assert session.status == 201, session.body
    token = session.json()["session_token"]
    log_safety.remember_secret(token)
    assert bank_api.get("/v1/devices", api_key=token).status == 200
    replay = bank_api.post(f"/v1/ui-tickets/{ticket_id}/session", {"code": answer["code"]})
    assert error(replay) == (410, "connect_code_used")
    # The session the window's own connection opened was never handed out, and is gone.
    sessions = [item for item in table_items() if item["sk"].startswith("SESSION#")]
    assert [s["via"] for s in sessions] == ["window"]


def test_a_connect_code_expires(bank_api, clock):
    Customer(bank_api).issue()
    window = opened(bank_api, "connect")
    window.connect(CUSTOMER, PHONE)
    answer = window.call("POST", "/v1/window/connect-code").json()
    clock.at += timedelta(minutes=3)
    late = bank_api.post(f"/v1/ui-tickets/{answer['ticket_id']}/session", {"code": answer["code"]})
    assert error(late) == (410, "connect_code_expired")


def test_a_remembered_browser_reconnects_with_its_webcrypto_signature_and_no_identity(bank_api):
    _, issued = issued_in_window(bank_api)
    first = opened(bank_api, "manage")
    assert first.connect(CUSTOMER, PHONE).status == 200
    key = ec.generate_private_key(ec.SECP256R1())
    registered = first.call(
        "POST", "/v1/window/devices", {"name": "Chrome on my PC", "public_key": spki_b64(key)}
    )
    assert registered.status == 201, registered.body
    assert "새 기기(Chrome on my PC)" in recorded_sms(PHONE, REGION)[-1]

    later = opened(bank_api, "sign", sign={"sign_type": "transfer", "contents": [{"text": "송금 10,000원"}]})
    connected_flow = later.connect_device(registered.json()["device_handle"], key, raw=True)
    assert connected_flow.status == 200, connected_flow.body
    assert connected_flow.json()["certificate"]["credential_id"] == issued["credential_id"]
    der = opened(bank_api, "connect").connect_device(registered.json()["device_handle"], key, raw=False)
    assert der.status == 200, der.body


def test_the_window_lists_and_removes_devices_at_the_limit(bank_api):
    Customer(bank_api).issue()
    window = opened(bank_api, "manage")
    window.connect(CUSTOMER, PHONE)
    for n in range(5):
        key = ec.generate_private_key(ec.SECP256R1())
        assert (
            window.call("POST", "/v1/window/devices", {"name": f"pc {n}", "public_key": spki_b64(key)}).status
            == 201
        )
    sixth = ec.generate_private_key(ec.SECP256R1())
    body = {"name": "pc 6", "public_key": spki_b64(sixth)}
    assert error(window.call("POST", "/v1/window/devices", body)) == (409, "device_limit_reached")
    devices = window.call("GET", "/v1/window/devices").json()["devices"]
    assert len(devices) == 5
    assert window.call("DELETE", f"/v1/window/devices/{devices[0]['device_id']}").status == 204
    assert window.call("POST", "/v1/window/devices", body).status == 201


# --- ending -----------------------------------------------------------------------------------
def test_a_cancelled_window_does_nothing_more_and_the_bank_sees_it(bank_api):
    window = opened(bank_api, "connect")
    assert window.call("POST", "/v1/window/cancel").status == 204
    assert bank_api.get(f"/v1/ui-tickets/{window.flow['ticket_id']}").json()["status"] == "cancelled"
    assert window.call("GET", "/v1/window").status == 401
    assert bank_api.get(f"/v1/ui-tickets/{window.flow['ticket_id']}", api_key="").status == 401


def test_a_window_credential_ends_with_its_flow(bank_api, clock):
    window = opened(bank_api, "connect")
    assert window.call("GET", "/v1/window").status == 200
    clock.at += timedelta(minutes=11)
    assert window.call("GET", "/v1/window").status == 401
    assert bank_api.get(f"/v1/ui-tickets/{window.flow['ticket_id']}").json()["status"] == "expired"


def test_another_bank_cannot_read_a_ticket(bank_api, other_bank):
    ticket = minted(bank_api, "connect")
    response = bank_api.get(f"/v1/ui-tickets/{ticket['ticket_id']}", api_key=other_bank["api_key"])
    assert error(response) == (404, "ticket_not_found")


def test_tickets_are_rate_limited_per_institution(bank_api, svc):
    use_services(
        Services(
            replace(svc.settings, ui_tickets_per_institution_per_minute=2),
            clients=svc.clients,
            clock=svc.clock,
        )
    )
    assert mint(bank_api, "connect").status == 201
    assert mint(bank_api, "connect").status == 201
    limited = mint(bank_api, "connect")
    assert error(limited) == (429, "ticket_rate_limited")
    assert int(limited.header("Retry-After")) <= 60


# --- hosted-only institutions ------------------------------------------------------------------------
@pytest.fixture
def hosted_only_bank(gateway, svc, ca) -> Api:
    _, api_key = register_institution(
        svc.store,
        "hosted-bank",
        "Hosted Bank",
        [s.value for s in Scope],
        allowed_origins=[BANK_ORIGIN],
        hosted_only=True,
    )
    log_safety.remember_secret(api_key)
    return Api(gateway, api_key)


SOME_ID = "AAAAAAAAAAAAAAAAAAAAAA"


def test_a_hosted_only_bank_never_relays_a_pin_or_code_but_its_window_takes_them(hosted_only_bank):
    bank = hosted_only_bank
    enrollment_id = start_enrollment(bank)  # starting is allowed: the code goes to the window
    relayed = {"sms_code": bank.last_sms_code(PHONE), "pin": PIN}
    assert error(bank.post(f"/v1/enrollments/{enrollment_id}/confirm", relayed)) == (
        403,
        "hosted_only_institution",
    )
    for path, body in [
        (f"/v1/connections/ver_{SOME_ID}/confirm", {"sms_code": "123456"}),
        (f"/v1/pin-resets/ver_{SOME_ID}/confirm", {"sms_code": "123456", "new_pin": PIN}),
        (f"/v1/status-changes/ver_{SOME_ID}/confirm", {"sms_code": "123456", "action": "suspend"}),
    ]:
        assert error(bank.post(path, body)) == (403, "hosted_only_institution"), path

    # The same enrollment, confirmed in the window: the code was never spent by the refusal.
    window = opened(bank, "issue", enrollment_id=enrollment_id)
    issued = window.call(
        "POST", "/v1/window/issuance", relayed | {"terms_accepted": True, "auto_renew": False}
    )
    assert issued.status == 201, issued.body

    connect = opened(bank, "connect")
    assert connect.connect(CUSTOMER, PHONE).status == 200
    answer = connect.call("POST", "/v1/window/connect-code").json()
    log_safety.remember_secret(answer["code"])
    session = bank.post(f"/v1/ui-tickets/{answer['ticket_id']}/session", {"code": answer["code"]}).json()
    token = session["session_token"]
    log_safety.remember_secret(token)
    credential_id = issued.json()["credential_id"]
    before = [item for item in table_items() if item["sk"] == "ACCOUNT"]
    for method, path, body in [
        ("POST", "/v1/registrations", {"pin": PIN}),
        ("PUT", "/v1/pin", {"pin": PIN, "new_pin": "246802"}),
        ("POST", "/v1/certificate/status", {"action": "suspend", "pin": PIN}),
        ("POST", "/v1/signatures", {"contents": [{"text": "x"}], "sign_type": "login", "pin": PIN}),
        (
            "POST",
            "/csc/v1/credentials/authorize",
            {"credentialID": credential_id, "numSignatures": 1, "PIN": PIN},
        ),
    ]:
        response = bank.request(method, path, body, api_key=token)
        assert response.status == 403, (path, response.body)
        refusal = response.json()["error"]  # CSC's errors are {"error": code, "error_description"}
        assert (refusal if isinstance(refusal, str) else refusal["code"]) == "hosted_only_institution", path
    # What needs no PIN still works with the session, and no PIN attempt was counted.
    assert bank.get("/v1/certificate", api_key=token).status == 200
    assert [item for item in table_items() if item["sk"] == "ACCOUNT"] == before


# --- managing the certificate in the window ----------------------------------------------------
def manage_window(bank_api: Api) -> Window:
    window = opened(bank_api, "manage")
    assert window.connect(CUSTOMER, PHONE).status == 200
    return window


def test_the_manage_window_changes_the_pin_reads_the_history_and_suspends_then_restores(bank_api):
    _, issued = issued_in_window(bank_api)
    window = manage_window(bank_api)
    certificate = window.call("GET", "/v1/window/certificate").json()
    assert (certificate["credential_id"], certificate["status"]) == (issued["credential_id"], "valid")
    new_pin = "246802"
    assert window.call("PUT", "/v1/window/pin", {"pin": PIN, "new_pin": new_pin}).status == 204
    events = [e["event"] for e in window.call("GET", "/v1/window/history?limit=50").json()["entries"]]
    assert "pin_changed" in events
    assert "issued" in events

    suspended = window.call("POST", "/v1/window/certificate/status", {"action": "suspend", "pin": new_pin})
    assert (suspended.status, suspended.json()["status"]) == (200, "suspended")
    restore = window.call("POST", "/v1/window/certificate/status", {"action": "restore", "pin": new_pin})
    assert error(restore) == (403, "reverification_required")
    started = window.call("POST", "/v1/window/status-changes", CUSTOMER)
    assert started.status == 201, started.body
    restored = window.call(
        "POST",
        f"/v1/window/status-changes/{started.json()['verification_id']}/confirm",
        {"sms_code": bank_api.last_sms_code(PHONE), "action": "restore"},
    )
    assert (restored.status, restored.json()["status"]) == (200, "valid")

    assert window.call("POST", "/v1/window/finish").status == 204
    assert bank_api.get(f"/v1/ui-tickets/{window.flow['ticket_id']}").json()["status"] == "completed"
    assert error(window.call("PUT", "/v1/window/pin", {"pin": new_pin, "new_pin": PIN})) == (
        410,
        "window_closed",
    )


def test_a_locked_pin_is_reset_in_the_window_after_re_verification(bank_api):
    issued_in_window(bank_api)
    window = manage_window(bank_api)
    for _ in range(5):
        window.call("PUT", "/v1/window/pin", {"pin": "975310", "new_pin": "246802"})
    locked = window.call("PUT", "/v1/window/pin", {"pin": PIN, "new_pin": "246802"})
    assert error(locked) == (403, "pin_locked")
    started = window.call("POST", "/v1/window/pin-resets", CUSTOMER)
    assert started.status == 201, started.body
    reset = window.call(
        "POST",
        f"/v1/window/pin-resets/{started.json()['verification_id']}/confirm",
        {"sms_code": bank_api.last_sms_code(PHONE), "new_pin": "246802"},
    )
    assert reset.status == 204, reset.body
    assert window.call("PUT", "/v1/window/pin", {"pin": "246802", "new_pin": "975312"}).status == 204


def test_manage_routes_are_only_for_a_manage_window(bank_api):
    issued_in_window(bank_api)
    connect = opened(bank_api, "connect")
    connect.connect(CUSTOMER, PHONE)
    assert error(connect.call("GET", "/v1/window/certificate")) == (403, "window_purpose_mismatch")
    assert error(connect.call("PUT", "/v1/window/pin", {"pin": PIN, "new_pin": "246802"})) == (
        403,
        "window_purpose_mismatch",
    )
    assert error(connect.call("POST", "/v1/window/pin-resets", CUSTOMER)) == (403, "window_purpose_mismatch")
    assert error(connect.call("POST", "/v1/window/finish")) == (403, "window_purpose_mismatch")


def test_a_sign_window_registers_the_certificate_with_another_bank_with_the_pin(bank_api, svc, gateway):
    issued_in_window(bank_api)  # at web-bank
    _, other_key = register_institution(
        svc.store, "web-bank-two", "Web Bank Two", [s.value for s in Scope], allowed_origins=[BANK_ORIGIN]
    )
    log_safety.remember_secret(other_key)
    other = Api(gateway, other_key)
    window = opened(other, "sign", sign={"sign_type": "login", "contents": [{"text": "로그인"}]})
    assert window.connect(CUSTOMER, PHONE).status == 200
    assert window.call("POST", "/v1/window/registrations", {"pin": PIN}).status == 204
    manage = opened(other, "manage")
    manage.connect(CUSTOMER, PHONE)
    assert manage.call("GET", "/v1/window/certificate").status == 200


def test_the_customer_sees_their_history_at_every_bank_in_the_window_and_a_bank_only_its_own(bank_api, api):
    Customer(api).issue()  # at demo-bank
    window = opened(bank_api, "manage")
    window.connect(CUSTOMER, PHONE)
    assert window.call("POST", "/v1/window/registrations", {"pin": PIN}).status == 204
    entries = window.call("GET", "/v1/window/history?limit=100").json()["entries"]
    assert {"demo-bank", "web-bank"} <= {e["institution_id"] for e in entries}
    assert "issued" in [e["event"] for e in entries]


# --- signing in the window ------------------------------------------------------------------------
TRANSFER = "이체 100,000원 → 국민은행 123-456-789 (김민수)"
CONTRACT = b"%PDF-1.7 contract bytes \x00\x01\x02"


def sign_window(bank_api: Api) -> Window:
    order = {
        "sign_type": "02",
        "formats": ["cms_attached", "raw"],
        "contents": [
            {"text": TRANSFER},
            {"base64": base64.b64encode(CONTRACT).decode(), "name": "계약서.pdf"},
        ],
    }
    window = opened(bank_api, "sign", sign=order)
    assert window.connect(CUSTOMER, PHONE).status == 200
    return window


def test_the_window_shows_then_signs_exactly_the_tickets_contents_and_the_bank_reads_them(bank_api, tmp_path):
    issued_in_window(bank_api)
    window = sign_window(bank_api)
    shown = window.call("GET", "/v1/window").json()["sign"]
    assert (shown["sign_type"], shown["sign_type_code"], shown["formats"]) == (
        "transfer",
        "02",
        ["cms_attached", "raw"],
    )
    text, binary = shown["contents"]
    assert (text["kind"], text["text"], text["bytes"]) == ("text", TRANSFER, len(TRANSFER.encode()))
    assert (binary["kind"], binary["text"], binary["name"], binary["bytes"]) == (
        "binary",
        None,
        "계약서.pdf",
        len(CONTRACT),
    )
    assert binary["sha256"] == hashlib.sha256(CONTRACT).hexdigest()

    signed = window.call("POST", "/v1/window/signatures", {"pin": PIN})
    assert signed.status == 201, signed.body
    answer = signed.json()
    assert [c["content_sha256"] for c in answer["contents"]] == [text["sha256"], binary["sha256"]]
    cms = base64.b64decode(answer["contents"][0]["signatures"][0]["signature"])
    verified = openssl_cms_verify(tmp_path, cms, answer["chain_pem"])
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout == TRANSFER.encode()

    outcome = bank_api.get(f"/v1/ui-tickets/{window.flow['ticket_id']}").json()
    assert outcome["status"] == "completed"
    assert outcome["outcome"]["contents"] == answer["contents"]
    assert outcome["outcome"]["credential_id"] == answer["credential_id"]
    # Signed once: the window cannot sign again with the same ticket.
    assert error(window.call("POST", "/v1/window/signatures", {"pin": PIN})) == (410, "window_closed")


def test_a_wrong_pin_in_the_window_signs_nothing_and_counts(bank_api):
    issued_in_window(bank_api)
    window = sign_window(bank_api)
    wrong = window.call("POST", "/v1/window/signatures", {"pin": "975310"})
    assert error(wrong) == (400, "pin_invalid")
    assert wrong.json()["error"]["details"]["remaining_attempts"] == 4
    assert bank_api.get(f"/v1/ui-tickets/{window.flow['ticket_id']}").json()["status"] == "open"
    assert window.call("POST", "/v1/window/signatures", {"pin": PIN}).status == 201


def test_a_sign_ticket_takes_no_hash_and_no_more_than_the_api_would_sign(bank_api):
    hashed = {"sign_type": "transfer", "contents": [{"sha256": "00" * 32}]}
    assert mint(bank_api, "sign", sign=hashed).status == 422
    # 24 KB together: more than the API signs in one call, and more than one request body holds.
    too_much = {"sign_type": "transfer", "contents": [{"text": "가" * 2700}] * 3}
    assert error(mint(bank_api, "sign", sign=too_much)) == (413, "payload_too_large")
    unknown = {"sign_type": "98", "contents": [{"text": "x"}]}
    assert mint(bank_api, "sign", sign=unknown).status == 422


def test_a_connect_window_cannot_sign(bank_api):
    issued_in_window(bank_api)
    window = opened(bank_api, "connect")
    window.connect(CUSTOMER, PHONE)
    assert error(window.call("POST", "/v1/window/signatures", {"pin": PIN})) == (
        403,
        "window_purpose_mismatch",
    )


# --- a write sent again by botocore after its answer was lost --------------------------------------
UPDATE = "dynamodb.UpdateItem"


def test_a_redemption_whose_answer_was_lost_opens_the_window(bank_api, aws_calls):
    ticket = minted(bank_api, "connect")
    window = Window(bank_api, ticket["ticket"])
    aws_calls.lose_next_answer(UPDATE)
    response = window.redeem()
    assert response.status == 201, response.body
    assert window.call("GET", "/v1/window").status == 200
    assert error(Window(bank_api, ticket["ticket"]).redeem()) == (409, "ticket_used")


def test_an_issuance_whose_ticket_completion_answer_was_lost_is_answered_with_the_certificate(
    bank_api, aws_calls
):
    window = opened(bank_api, "issue", enrollment_id=start_enrollment(bank_api))
    code = bank_api.last_sms_code(PHONE)
    aws_calls.lose_next_answer(UPDATE, after=1)  # past the enrollment's claim: the ticket's completion
    response = window.call(
        "POST",
        "/v1/window/issuance",
        {"sms_code": code, "pin": PIN, "terms_accepted": True, "auto_renew": False},
    )
    assert response.status == 201, response.body
    outcome = bank_api.get(f"/v1/ui-tickets/{window.flow['ticket_id']}").json()
    assert outcome["status"] == "completed"


def test_a_cancel_whose_answer_was_lost_is_answered_as_made(bank_api, aws_calls):
    window = opened(bank_api, "connect")
    aws_calls.lose_next_answer(UPDATE)
    assert window.call("POST", "/v1/window/cancel").status == 204
    assert bank_api.get(f"/v1/ui-tickets/{window.flow['ticket_id']}").json()["status"] == "cancelled"
