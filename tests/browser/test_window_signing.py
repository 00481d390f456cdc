"""What the customer sees is what they sign, end to end: issued in the window, a transfer signed in
the window from the demo bank's page, the bank's back end verifying it with the service and
`openssl cms -verify` accepting it; the PIN and the SMS codes never reach the bank's origin."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.support import log_safety
from tests.support.browser import (
    DemoSite,
    Person,
    Traffic,
    bank_outcome,
    button_outcome,
    click_pin,
    fincert_button,
    identify,
    issue_through_the_api,
    last_sms_code,
    log_in,
    open_window,
    type_pin,
    unlabelled_controls,
    whole,
)
from tests.support.verifiers import openssl_cms_verify

pytestmark = pytest.mark.browser

PIN = "802468"
WRONG_PIN = "246824"
log_safety.remember_secret(PIN, WRONG_PIN)


def test_issue_sign_a_transfer_and_the_bank_verifies_what_was_shown(context, site: DemoSite, shots, tmp_path):
    person = Person()
    page = context.new_page()
    bank_traffic = Traffic(page)
    log_in(page, site.url, person)

    # Issue, with the mouse this time.
    window = open_window(context, page, "#issue")
    window.wait_for_selector("[data-screen=issue-terms]")
    window.check("input[name=terms_accepted]")
    issuance_code = last_sms_code(site.stack, person.e164)
    window.fill("input[name=sms_code]", issuance_code)
    window.click("form button[type=submit]")
    window.wait_for_selector("[data-screen=issue-pin]")
    click_pin(window, PIN)
    window.wait_for_selector("[data-screen=issue-pin-again]")
    click_pin(window, PIN)
    state, text, issued = bank_outcome(page)
    assert state == "ok", text

    # A transfer: the bank mints a sign ticket with the exact text; the window shows it in full.
    page.fill("#to-account", "333-22-7654321")
    page.fill("#amount", "1250000")
    page.fill("#memo", "3월 월세")
    window = open_window(context, page, "#transfer")
    identify(window, site, person)
    connection_code = last_sms_code(site.stack, person.e164)
    window.wait_for_selector("[data-screen=sign]")
    assert unlabelled_controls(window) == []
    shots(window, "sign")
    shown = window.inner_text("[data-content-index='0'] .content-text")
    assert window.inner_text(".sign-type") == "이체 (02)"
    type_pin(window, PIN)
    state, text, outcome = bank_outcome(page)
    assert state == "ok", text
    shots(page, "bank-verified")

    [check] = outcome["signatures"]
    assert check["content"] == shown  # what the bank asked to sign is what the window showed
    assert "입금 계좌: 333-22-7654321\n금액: 1,250,000원\n받는 분 통장 표시: 3월 월세" in shown
    assert check["verdict"]["valid"] is True and outcome["verified"] is True
    # An independent verifier, on the CA chain the service publishes.
    chain = site.stack.get("/pki/chain.pem").text
    verified = openssl_cms_verify(tmp_path, base64.b64decode(check["signature"]), chain)
    assert verified.returncode == 0, verified.stderr.decode()
    assert verified.stdout.decode("utf-8") == shown  # the CMS carries exactly the text shown
    assert issued["issued"]["serial_number"]

    for secret in (PIN, issuance_code, connection_code):
        assert bank_traffic.containing(secret) == [], secret
        assert not whole(secret).search(page.content()), secret


def test_five_wrong_pins_in_a_sign_window_show_the_lock_and_end_it_with_pin_locked(
    context, site: DemoSite, shots
):
    person = Person()
    issue_through_the_api(site, person, PIN)
    page = context.new_page()
    log_in(page, site.url, person)
    window = open_window(context, page, "#transfer")
    identify(window, site, person)
    for remaining in (4, 3, 2, 1):
        window.wait_for_selector("[data-screen=sign]")
        type_pin(window, WRONG_PIN)
        window.wait_for_selector(f"[data-screen=sign] .error >> text=남은 횟수: {remaining}회")
    type_pin(window, WRONG_PIN)
    window.wait_for_selector("[data-screen=locked]")
    shots(window, "locked")
    state, text, detail = bank_outcome(page)
    assert (state, detail["code"]) == ("error", "pin_locked"), text


def test_several_contents_one_pin_binary_shown_by_name_size_and_digest_after_registering_here(
    context, site: DemoSite, shots
):
    """A certificate issued through another bank (the API demo bank): the web bank's sign window
    first registers it there with the PIN (타기관 등록), then shows a text in full and a file by
    name, size and SHA-256 only, and one PIN signs both."""
    person = Person()
    enrollment = site.stack.post("/v1/enrollments", person.identity() | {"terms_accepted": True})
    assert enrollment.status_code == 201, enrollment.text
    confirmed = site.stack.post(
        f"/v1/enrollments/{enrollment.json()['enrollment_id']}/confirm",
        {"sms_code": last_sms_code(site.stack, person.e164), "pin": PIN},
    )
    assert confirmed.status_code == 201, confirmed.text

    text = "대출 약정서 제1조: 원금 30,000,000원, 연 4.2%, 만기 2029-12-31"
    document = b"%PDF-1.7\n" + bytes(range(256)) * 8
    ticket = site.mint(
        "sign",
        sign={
            "sign_type": "04",  # FinCert's code for a contract
            "formats": ["cms_attached", "raw"],
            "contents": [
                {"text": text},
                {"base64": base64.b64encode(document).decode(), "name": "약정서.pdf"},
            ],
        },
    )
    page = context.new_page()
    page.goto(site.url + "/")
    fincert_button(page, "sign", ticket["ticket"], site.service)
    window = open_window(context, page, "#test-open")
    identify(window, site, person)
    window.wait_for_selector("[data-screen=sign]")
    assert window.inner_text(".sign-type") == "계약 (04)"
    assert window.inner_text("[data-content-index='0'] .content-text") == text
    binary = window.locator("[data-content-index='1']")
    assert binary.get_attribute("data-kind") == "binary"
    assert binary.locator(".badge").inner_text() == "이진 파일: 화면에 표시되지 않습니다"
    assert binary.locator(".content-name").inner_text() == "약정서.pdf"
    assert f"{len(document):,}바이트" in binary.inner_text()
    shown_digest = binary.locator(".content-sha256").inner_text().replace(" ", "")
    assert shown_digest == hashlib.sha256(document).hexdigest()
    assert "%PDF" not in window.content()  # the file's bytes are not displayed
    shots(window, "two-contents")

    type_pin(window, PIN)
    window.wait_for_selector("[data-screen=register]")  # not yet usable at this bank
    shots(window, "register-here")
    type_pin(window, PIN)
    window.wait_for_selector("[data-screen=sign] >> text=이 기관에 인증서를 등록했습니다. 이제 서명하세요.")
    type_pin(window, PIN)
    result = button_outcome(page)
    assert result["ok"], result

    signed = result["result"]
    assert signed["formats"] == ["cms_attached", "raw"]
    assert [c["content_sha256"] for c in signed["contents"]] == [
        hashlib.sha256(text.encode()).hexdigest(),
        hashlib.sha256(document).hexdigest(),
    ]
    # The bank's back end reads the same from the service and verifies each, the file by its bytes.
    outcome = site.call("GET", f"/v1/ui-tickets/{ticket['ticket_id']}").json()
    assert outcome["status"] == "completed"
    assert outcome["outcome"]["contents"] == signed["contents"]
    for content, what in zip(
        signed["contents"],
        ({"content": text}, {"content_base64": base64.b64encode(document).decode()}),
        strict=True,
    ):
        for signature in content["signatures"]:
            body = {"signature": signature["signature"], "format": signature["format"], **what}
            if signature["format"] == "raw":
                body["certificate_pem"] = signed["certificate_pem"]
            verdict = site.call("POST", "/v1/signatures/verify", body).json()
            assert verdict["valid"] is True, (signature["format"], verdict)
