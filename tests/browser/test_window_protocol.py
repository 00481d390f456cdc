"""fincert.js and the window between two sites in a real browser: the CSP holds, the popup opens
only from a click, the ticket travels by postMessage to the service's origin only, results go to
the ticket's exact origin only, and every way a call can end has its stable error code."""

from __future__ import annotations

import pytest

from tests.support.browser import (
    DemoSite,
    Person,
    bank_outcome,
    button_outcome,
    fincert_button,
    identify,
    issue_through_the_api,
    log_in,
    open_window,
)

pytestmark = pytest.mark.browser

# Every message a page receives, from the first script on: what another origin could have got.
RECORD_MESSAGES = """
window.__messages = [];
window.addEventListener('message', (event) => {
  window.__messages.push({origin: event.origin, data: JSON.stringify(event.data)});
});
"""


def test_the_window_loads_under_its_csp_and_the_csp_refuses_inline_script(context, site: DemoSite, problems):
    page = context.new_page()
    response = page.goto(f"{site.service}/hosted/v1/window.html")
    assert response.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self';")
    assert "cross-origin-opener-policy" not in response.headers
    # Opened by hand, not by fincert.js: it says so and does nothing else.
    page.wait_for_selector("[data-screen=no-opener]")
    assert problems.lines == []
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__inline = true'; document.head.append(s); }"""
    )
    assert page.evaluate("window.__inline === undefined")
    refused = problems.csp_violations()
    assert refused and "inline" in refused[0]
    problems.lines.clear()  # seen and expected: the fixture checks that nothing else was refused


def test_without_a_click_the_popup_is_blocked(context, site: DemoSite):
    # On page load: no user activation (Playwright's own evaluate() would count as a gesture).
    page = context.new_page()
    page.add_init_script(
        """document.addEventListener('DOMContentLoaded', () => {
             FinCert.connect({ service: SERVICE, ticket: 'fct.x.y' }).then(
               () => { window.__code = 'resolved'; },
               (e) => { window.__code = e instanceof FinCert.FinCertError ? e.code : 'not a FinCertError'; });
           });""".replace("SERVICE", repr(site.service))
    )
    page.goto(site.url + "/")
    assert page.wait_for_function("() => window.__code").json_value() == "popup_blocked"
    assert len(context.pages) == 1


def test_closing_the_window_is_user_cancelled_and_the_bank_reads_cancelled(context, site: DemoSite, shots):
    page = context.new_page()
    log_in(page, site.url, Person())
    window = open_window(context, page, "#connect")
    window.wait_for_selector("[data-screen=identity]")
    shots(window, "window-open")
    window.close()
    state, text, detail = bank_outcome(page)
    assert (state, detail["code"]) == ("error", "user_cancelled"), text
    shots(page, "bank-cancelled")
    # The window's pagehide told the service: the bank's back end reads it, not only the page.
    assert site.ticket_status(detail["ticket_id"]) == "cancelled"


def test_a_replayed_ticket_is_ticket_used_and_another_purposes_ticket_is_refused(context, site: DemoSite):
    page = context.new_page()
    page.goto(site.url + "/")
    ticket = site.mint("connect")
    fincert_button(page, "connect", ticket["ticket"], site.service)
    window = open_window(context, page, "#test-open")
    window.wait_for_selector("[data-screen=identity]")
    window.close()
    assert button_outcome(page)["code"] == "user_cancelled"

    fincert_button(page, "connect", ticket["ticket"], site.service)
    window = open_window(context, page, "#test-open")
    assert button_outcome(page) == {"ok": False, "code": "ticket_used", "isFinCertError": True}
    window.wait_for_event("close")  # the window shows why, then closes itself

    other = site.mint("connect")
    fincert_button(page, "sign", other["ticket"], site.service)
    window = open_window(context, page, "#test-open")
    assert button_outcome(page)["code"] == "window_purpose_mismatch"
    assert window.is_closed() or window.locator("[data-screen=identity]").count() == 0  # nothing shown
    assert site.ticket_status(other["ticket_id"]) == "cancelled"  # nothing can be done with it


def test_an_unregistered_origin_gets_origin_mismatch_and_nothing_else(context, site: DemoSite, shots):
    """The bank's own server under a name its institution never registered (127.0.0.1 instead
    of localhost): a page there that got hold of a ticket opens nothing with it."""
    page = context.new_page()
    page.add_init_script(RECORD_MESSAGES)
    log_in(page, site.unregistered_url, Person())
    window = open_window(context, page, "#connect")
    state, text, detail = bank_outcome(page)
    assert (state, detail["code"]) == ("error", "origin_mismatch"), text
    shots(page, "unregistered-origin")
    received = page.evaluate("window.__messages")
    assert [m["origin"] for m in received] == [site.service] * len(received)
    assert sorted(m["data"] for m in received) == sorted(
        ['{"type":"fincert:ready"}', next(m["data"] for m in received if "fincert:error" in m["data"])]
    )
    assert all("origin_mismatch" in m["data"] for m in received if "fincert:error" in m["data"])
    assert site.ticket_status(detail["ticket_id"]) == "pending"  # never redeemed
    assert window.is_closed() or window.locator("[data-screen=identity]").count() == 0


def test_the_sdk_hears_only_its_window_and_sends_the_ticket_only_there(context, site: DemoSite):
    """Another origin's window posing as the service: its `ready` gets no ticket, its forged
    result is ignored, and the call still ends as the real window ends."""
    page = context.new_page()
    page.goto(site.url + "/")
    fincert_button(page, "connect", None, site.service)  # the ticket never comes
    real = open_window(context, page, "#test-open")
    real.wait_for_load_state()

    page.evaluate(
        """(url) => { const b = document.createElement('button'); b.id = 'open-other';
                      b.addEventListener('click', () => { window.__other = window.open(url, 'other'); });
                      document.body.prepend(b); }""",
        site.unregistered_url + "/",
    )
    with context.expect_page() as opened:
        page.click("#open-other")
    impostor = opened.value
    impostor.wait_for_load_state()
    impostor.evaluate(RECORD_MESSAGES)
    impostor.evaluate(
        """() => { window.opener.postMessage({type: 'fincert:ready'}, '*');
                   window.opener.postMessage({type: 'fincert:result', purpose: 'connect',
                                              result: {code: 'forged', ticket_id: 'forged'}}, '*'); }"""
    )
    page.wait_for_timeout(500)
    assert page.evaluate("window.__outcome") is None  # the forged result did not resolve the call
    assert impostor.evaluate("window.__messages") == []  # and no ticket went its way
    real.close()
    assert button_outcome(page)["code"] == "user_cancelled"


def test_the_window_posts_its_result_to_the_tickets_origin_only(context, site: DemoSite):
    """The opener navigates to another origin while the customer connects: the window still
    finishes (the service records the outcome) but the new page gets no result."""
    person = Person()
    issue_through_the_api(site, person)
    page = context.new_page()
    page.add_init_script(RECORD_MESSAGES)
    log_in(page, site.url, person)
    page.evaluate(
        """() => { const original = window.fetch;
                   window.fetch = (...args) => original(...args).then((r) => {
                     if (String(args[0]).endsWith('/api/tickets')) {
                       r.clone().json().then((j) => { window.__ticketId = j.ticket_id; });
                     }
                     return r;
                   }); }"""
    )
    window = open_window(context, page, "#connect")
    ticket_id = page.wait_for_function("() => window.__ticketId").json_value()
    window.wait_for_selector("[data-screen=identity]")
    page.goto(site.unregistered_url + "/")  # the opener now shows another origin's page
    identify(window, site, person)
    window.wait_for_event("close")
    assert site.ticket_status(ticket_id) == "completed"
    received = page.evaluate("window.__messages")
    assert not [m for m in received if "fincert:result" in m["data"] or "code" in m["data"]]
