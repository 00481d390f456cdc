"""What the customer sees is what they sign, end to end: issued in the window, a transfer signed in
the window from the demo bank's page, the bank's back end verifying it with the service and
`openssl cms -verify` accepting it; the PIN and the SMS codes never reach the bank's origin."""

from __future__ import annotations

import base64

import pytest

from tests.support import log_safety
from tests.support.browser import (
    DemoSite,
    Person,
    Traffic,
    bank_outcome,
    click_pin,
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
