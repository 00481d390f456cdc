"""The customer's flows in the service's window, clicked and typed as a person would, from the demo
bank's page on another site: issuance by keyboard alone, a remembered browser, the five-device
limit, management, the PIN lock. The bank's page and its traffic never hold a PIN or an SMS code."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

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
from tests.support.device_keys import spki_b64
from tests.support.window import Window

pytestmark = pytest.mark.browser

PIN = "802468"
WEAK_PIN = "123456"  # refused by the PIN policy (sequential)
NEW_PIN = "913579"
WRONG_PIN = "246824"
log_safety.remember_secret(PIN, NEW_PIN, WRONG_PIN)

READ_BROWSER_STORAGE = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('fincert', 1);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const records = await new Promise((resolve) => {
    const request = db.transaction('devices').objectStore('devices').getAll();
    request.onsuccess = () => resolve(request.result);
  });
  db.close();
  return {
    records: records.map((r) => ({
      fields: Object.keys(r).sort(),
      label: r.label,
      handle: r.device_handle,
      key: {type: r.key.type, extractable: r.key.extractable, algorithm: r.key.algorithm.name,
            curve: r.key.algorithm.namedCurve, usages: r.key.usages},
    })),
    localStorage: localStorage.length,
    sessionStorage: sessionStorage.length,
    cookie: document.cookie,
  };
}"""


def manage_window_api(site: DemoSite, person: Person) -> Window:
    """A manage window driven over HTTP, connected as `person` (to look behind the browser's back)."""
    window = Window(site.transport(), site.mint("manage")["ticket"])
    assert window.redeem(site.url).status_code == 201
    connected = window.connect(person.identity(), person.e164)
    assert connected.status_code == 200, connected.text
    return window


def test_issue_by_keyboard_alone_then_remembered_browsers_connect_with_no_identity(
    context, site: DemoSite, shots, problems
):
    person = Person()
    page = context.new_page()
    bank_traffic = Traffic(page)
    log_in(page, site.url, person)
    shots(page, "bank-logged-in")

    window = open_window(context, page, "#issue")
    window.wait_for_selector("[data-screen=issue-terms]")
    assert window.inner_text("h1") == "금융인증서 발급"
    assert unlabelled_controls(window) == []
    shots(window, "terms")
    # Keyboard only, from where the window puts the focus: the consent checkbox.
    assert window.evaluate("document.activeElement.name") == "terms_accepted"
    # Auto-renewal is opt-in: offered unticked, and left so.
    assert window.evaluate("document.querySelector('input[name=auto_renew]').checked") is False
    window.keyboard.press("Space")
    window.keyboard.press("Tab")  # auto-renew: left unticked
    window.keyboard.press("Tab")
    window.keyboard.press("Space")  # remember this browser
    window.keyboard.press("Tab")
    sms_code = last_sms_code(site.stack, person.e164)
    window.keyboard.type(sms_code)
    window.keyboard.press("Enter")

    window.wait_for_selector("[data-screen=issue-pin]")
    assert window.evaluate("document.activeElement.classList.contains('pin-display')")
    assert unlabelled_controls(window) == []
    window.keyboard.type(WEAK_PIN)
    window.keyboard.press("Enter")
    window.wait_for_selector("[data-screen=issue-pin-again]")
    window.keyboard.type(WEAK_PIN)
    window.keyboard.press("Enter")
    # The service's PIN policy error, shown where the PIN is set again.
    window.wait_for_selector("[data-screen=issue-pin] .error:not([hidden])")
    assert window.inner_text("[data-screen=issue-pin] .error") == "연속된 숫자로 된 PIN은 쓸 수 없습니다."
    shots(window, "pin-policy-error")
    window.keyboard.type(PIN)
    window.keyboard.press("Enter")
    window.wait_for_selector("[data-screen=issue-pin-again]")
    window.keyboard.type(PIN)
    window.keyboard.press("Enter")

    window.wait_for_selector("[data-screen=notice]")  # this browser is remembered
    shots(window, "remembered")
    window.keyboard.press("Enter")  # on "next", where the focus is
    state, text, issued = bank_outcome(page)
    assert state == "ok", text
    assert issued["status"] == "completed"
    serial = issued["issued"]["serial_number"]
    shots(page, "bank-issued")
    window.wait_for_event("close")

    # Next time: the remembered customer is picked, no name, phone or birth date.
    window = open_window(context, page, "#connect")
    window_traffic = Traffic(window)
    window.wait_for_selector("[data-screen=pick]")
    shots(window, "pick-remembered")
    assert window.evaluate("document.activeElement.classList.contains('customer')")
    window.keyboard.press("Enter")
    state, text, connected = bank_outcome(page)
    assert state == "ok", text
    assert connected["connected"] is True
    assert connected["certificate"]["serial_number"] == serial
    calls = [entry.split("\n")[0] for entry in window_traffic.entries if entry.startswith(">")]
    assert not [c for c in calls if "/v1/window/connections" in c]
    assert [c for c in calls if "/v1/window/device-connections/" in c and c.endswith("/confirm")]

    # What the browser keeps: one record, a non-extractable signing key, a label, the handle.
    probe = context.new_page()
    probe.goto(f"{site.service}/hosted/v1/window.html")
    kept = probe.evaluate(READ_BROWSER_STORAGE)
    assert kept["localStorage"] == kept["sessionStorage"] == 0
    assert kept["cookie"] == ""
    [record] = kept["records"]
    assert record["fields"] == ["device_handle", "key", "label"]
    assert record["key"] == {
        "type": "private",
        "extractable": False,
        "algorithm": "ECDSA",
        "curve": "P-256",
        "usages": ["sign"],
    }
    assert context.cookies(site.service) == []

    # The bank's page never had the PIN or the SMS code: not in what it sent or received, not
    # in its DOM; and nothing of them was written to the console.
    for secret in (PIN, WEAK_PIN, sms_code):
        assert bank_traffic.containing(secret) == [], secret
        assert not whole(secret).search(page.content()), (secret, page.content())
    assert not [e for e in bank_traffic.entries if "fcw." in e]  # nor the window's credential
    assert problems.logged() == []

    # A second customer of this browser, remembered too: next time both are offered.
    other = Person(name="이하나")
    issue_through_the_api(site, other, PIN)
    window = open_window(context, page, "#connect")
    window.wait_for_selector("[data-screen=pick]")
    window.click("[data-screen=pick] >> text=다른 정보로 연결")
    identify(window, site, other, remember=True)
    window.wait_for_selector("[data-screen=notice]")
    window.click("[data-screen=notice] button")
    state, text, second = bank_outcome(page)
    assert state == "ok", text
    window = open_window(context, page, "#connect")
    window.wait_for_selector("[data-screen=pick] button.customer >> nth=1")
    labels = window.eval_on_selector_all("button.customer", "els => els.map(e => e.textContent)")
    assert len(labels) == 2, labels
    assert [label for label in labels if label.startswith(f"이*나 (…{other.phone[-4:]})")], labels
    shots(window, "pick-of-two")
    window.click(f"button.customer >> text=이*나 (…{other.phone[-4:]})")
    state, text, again = bank_outcome(page)
    assert state == "ok", text
    assert again["certificate"]["serial_number"] == second["certificate"]["serial_number"] != serial


def test_the_sixth_device_is_refused_and_the_window_lists_five_to_remove_one(context, site: DemoSite, shots):
    person = Person()
    issue_through_the_api(site, person, PIN)
    api_window = manage_window_api(site, person)
    first_five = []
    for n in range(5):
        registered = api_window.call(
            "POST",
            "/v1/window/devices",
            {"name": f"Phone {n + 1}", "public_key": spki_b64(ec.generate_private_key(ec.SECP256R1()))},
        )
        assert registered.status_code == 201, registered.text
        first_five.append(registered.json()["device_id"])

    page = context.new_page()
    log_in(page, site.url, person)
    window = open_window(context, page, "#connect")
    identify(window, site, person, remember=True)

    window.wait_for_selector("[data-screen=device-limit] li.device >> nth=4")
    listed = window.eval_on_selector_all("[data-device-id]", "els => els.map(e => e.dataset.deviceId)")
    assert sorted(listed) == sorted(first_five)
    shots(window, "device-limit")
    window.click(f"[data-device-id='{first_five[0]}']")
    window.wait_for_selector("[data-screen=notice]")
    window.click("[data-screen=notice] button")
    state, text, connected = bank_outcome(page)
    assert state == "ok" and connected["connected"], text

    devices = api_window.call("GET", "/v1/window/devices").json()["devices"]
    assert len(devices) == 5
    assert first_five[0] not in [d["device_id"] for d in devices]
    assert [d["name"] for d in devices if d["device_id"] not in first_five] == ["웹 브라우저 (Chrome, Linux)"]


def test_manage_in_english_pin_history_suspend_and_restore(context, site: DemoSite, shots):
    person = Person()
    issue_through_the_api(site, person, PIN)
    page = context.new_page()
    log_in(page, site.url, person)
    page.select_option("#lang", "en")
    window = open_window(context, page, "#manage")
    window.wait_for_selector("[data-screen=identity]")
    assert window.inner_text("h1") == "Connect your certificate"
    assert window.get_by_label("Mobile number").get_attribute("name") == "phone"
    identify(window, site, person)
    window.wait_for_selector("[data-screen=manage] .certificate[data-status=valid]")
    assert unlabelled_controls(window) == []
    shots(window, "manage")

    window.click("[data-action=change-pin]")
    click_pin(window, PIN)  # the current PIN, on the pad's buttons
    window.wait_for_selector("[data-screen=change-pin-new]")
    type_pin(window, NEW_PIN)
    window.wait_for_selector("[data-screen=change-pin-new-again]")
    type_pin(window, NEW_PIN)
    window.wait_for_selector("[data-screen=manage] >> text=Your PIN is changed.")

    window.click("[data-action=history]")
    window.wait_for_selector("[data-screen=history] li[data-event=pin_changed]")
    events = window.eval_on_selector_all("[data-event]", "els => els.map(e => e.dataset.event)")
    assert events[0] == "pin_changed" and events[-1] == "issued"
    shots(window, "history")
    window.click("text=Back")

    window.click("[data-action=suspend]")
    window.wait_for_selector("[data-screen=suspend]")
    type_pin(window, NEW_PIN)
    window.wait_for_selector("[data-screen=manage] .certificate[data-status=suspended]")
    shots(window, "suspended")

    # Restoring needs the customer verified again, whatever this window's connection.
    window.click("[data-action=restore]")
    identify(window, site, person, "restore")
    window.wait_for_selector("[data-screen=manage] .certificate[data-status=valid]")
    window.click("[data-action=done]")
    state, text, managed = bank_outcome(page)
    assert state == "ok" and managed["status"] == "completed", text


def test_manage_revokes_only_after_a_confirmation_then_the_pin(context, site: DemoSite, shots):
    person = Person()
    issue_through_the_api(site, person, PIN)
    page = context.new_page()
    log_in(page, site.url, person)
    window = open_window(context, page, "#manage")
    identify(window, site, person)
    window.wait_for_selector("[data-screen=manage] .certificate[data-status=valid]")

    window.click("[data-action=revoke]")
    window.wait_for_selector("[data-screen=revoke]")
    assert unlabelled_controls(window) == []
    window.get_by_label("폐기 사유").select_option("keyCompromise")
    window.click("[data-screen=revoke] button[type=submit]")
    # Not confirmed: no PIN asked, nothing sent.
    window.wait_for_selector("[data-screen=revoke] .error >> text=폐기하려면 확인란을 선택하세요.")
    shots(window, "revoke-confirm")
    window.click("[data-screen=revoke] >> text=뒤로")
    window.wait_for_selector("[data-screen=manage] .certificate[data-status=valid]")

    window.click("[data-action=revoke]")
    window.get_by_label("폐기 사유").select_option("keyCompromise")
    window.check("input[name=understand]")
    window.click("[data-screen=revoke] button[type=submit]")
    window.wait_for_selector("[data-screen=revoke-pin]")
    type_pin(window, WRONG_PIN)
    window.wait_for_selector("[data-screen=revoke-pin] .error >> text=남은 횟수: 4회")
    type_pin(window, PIN)
    window.wait_for_selector("[data-screen=manage] .certificate[data-status=revoked]")
    shots(window, "revoked")

    window.click("[data-action=history]")
    window.wait_for_selector("[data-screen=history] li[data-event=status_changed]")
    change = window.inner_text("[data-screen=history] li[data-event=status_changed]")
    assert "action=revoke" in change and "reason=keyCompromise" in change, change
    window.click("text=뒤로")
    window.click("[data-action=done]")
    state, text, managed = bank_outcome(page)
    assert state == "ok" and managed["status"] == "completed", text


def test_five_wrong_pins_show_the_lock_and_a_re_verified_reset_lifts_it(context, site: DemoSite, shots):
    person = Person()
    issue_through_the_api(site, person, PIN)
    page = context.new_page()
    log_in(page, site.url, person)
    window = open_window(context, page, "#manage")
    identify(window, site, person)
    window.click("[data-action=suspend]")
    for remaining in (4, 3, 2, 1):
        window.wait_for_selector("[data-screen=suspend]")
        type_pin(window, WRONG_PIN)
        window.wait_for_selector(f"[data-screen=suspend] .error >> text=남은 횟수: {remaining}회")
    type_pin(window, WRONG_PIN)
    window.wait_for_selector("[data-screen=locked]")
    shots(window, "locked")

    # Forgotten or locked PIN: the manage window re-verifies the customer, a new PIN unlocks it.
    window.click("[data-screen=locked] [data-action=pin-reset]")
    identify(window, site, person, "pin-reset")
    window.wait_for_selector("[data-screen=pin-reset-pin]")
    type_pin(window, NEW_PIN)
    window.wait_for_selector("[data-screen=pin-reset-pin-again]")
    type_pin(window, NEW_PIN)
    window.wait_for_selector("[data-screen=manage] >> text=새 PIN을 설정했습니다. PIN 잠금이 풀렸습니다.")
    window.click("[data-action=suspend]")
    type_pin(window, NEW_PIN)  # the new PIN works: the lock is gone
    window.wait_for_selector("[data-screen=manage] .certificate[data-status=suspended]")
    window.click("[data-action=done]")
    state, text, managed = bank_outcome(page)
    assert state == "ok" and managed["status"] == "completed", text
