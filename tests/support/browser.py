"""Driving the demo bank site and the service's window in headless Chromium (tests/browser).

Debian's chromium through Playwright's Python package (`executable_path`; Playwright's own browser
download is never used). The bank site (fincert_local.demo_bank) runs in the local stack's process
on another site than the service: the service on 127.0.0.1, the bank on localhost."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fincert_local.demo import sms_code_in

from tests.support import log_safety
from tests.support.customers import OverHttp
from tests.support.people import e164, random_phone
from tests.support.stack import REPO, RunningStack
from tests.support.window import Window

CHROMIUM = os.environ.get("FINCERT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Playwright turns Chromium's popup blocker off by default; the SDK's `popup_blocked` needs it on.
KEEP_POPUP_BLOCKER = ["--disable-popup-blocking"]
ARTIFACTS = Path(os.environ.get("FINCERT_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
WINDOW_SIZE = {"width": 480, "height": 860}


def chromium_or_explain() -> str:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium and fonts-noto-cjk "
            "(scripts/ensure-system-packages installs them; FINCERT_CHROMIUM names another binary)"
        )
    return CHROMIUM


@dataclass
class DemoSite:
    """The running stack's demo bank site and, for what a test does behind its back, its
    institution's API key (the site's back end holds it; the page never does)."""

    stack: RunningStack
    url: str  # http://localhost:<port>
    api_key: str

    @classmethod
    def of(cls, stack: RunningStack) -> DemoSite:
        state = json.loads(stack.state_file.read_text())
        site = state["bootstrap"]["demo_site"]
        log_safety.remember_secret(site["api_key"])
        return cls(stack=stack, url=state["demo_site_url"], api_key=site["api_key"])

    @property
    def service(self) -> str:
        return self.stack.url

    @property
    def unregistered_url(self) -> str:
        """The same site's server under a name its institution never registered (127.0.0.1)."""
        return self.url.replace("//localhost:", "//127.0.0.1:")

    def transport(self) -> OverHttp:
        return _SiteTransport(self.stack, api_key=self.api_key)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.transport().request(method, path, body)

    def mint(self, purpose: str, **fields: Any) -> dict:
        response = self.call("POST", "/v1/ui-tickets", {"purpose": purpose, "origin": self.url} | fields)
        assert response.status_code == 201, response.text
        minted = response.json()
        log_safety.remember_secret(minted["ticket"])
        return minted

    def ticket_status(self, ticket_id: str) -> str:
        return self.call("GET", f"/v1/ui-tickets/{ticket_id}").json()["status"]


@dataclass
class _SiteTransport(OverHttp):
    """The stack over HTTP with the demo site's institution's key (tests/support/window.Window)."""

    api_key: str = ""

    def request(self, method: str, path: str, json_body: Any = None, *, api_key: str | None = None, **kw):
        key = self.api_key if api_key is None else api_key
        return super().request(method, path, json_body, api_key=key, **kw)

    def sms_code(self, phone_e164: str) -> str:
        return last_sms_code(self.stack, phone_e164)


@dataclass
class Person:
    """A made-up customer of their own (the stack is shared by the session)."""

    name: str = "김데모"
    phone: str = field(default_factory=random_phone)
    birth_date: str = "19900101"

    def __post_init__(self) -> None:
        log_safety.remember_secret(self.phone, self.e164)

    @property
    def e164(self) -> str:
        return e164(self.phone)

    def identity(self) -> dict[str, str]:
        return {"name": self.name, "phone": self.phone, "birth_date": self.birth_date}


def last_sms_code(stack: RunningStack, phone_e164: str) -> str:
    """The code of the newest text with a code (notices, e.g. a device registered, have none)."""
    texts = stack.get("/_local/sms", params={"phone": phone_e164}).json()["messages"]
    for text in reversed(texts):
        if re.search(r"\[\d{6}\]", text):
            code = sms_code_in(text)
            log_safety.remember_secret(code)
            return code
    raise AssertionError(f"no code texted to {phone_e164}")


def whole(secret: str) -> re.Pattern:
    """A secret as a whole token: a PIN's digits inside a base64 signature or a hex serial are not it."""
    return re.compile(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])")


class Traffic:
    """Everything one page sends and receives over HTTP (URL, headers, bodies), as text."""

    def __init__(self, page) -> None:
        self.entries: list[str] = []
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._request_only)

    def _request_only(self, request) -> None:
        self.entries.append(
            f"> {request.method} {request.url}\n{json.dumps(request.headers)}\n{request.post_data or ''}"
        )

    def _finished(self, request) -> None:
        self._request_only(request)
        response = request.response()
        if response is None:
            return
        try:
            body = response.body().decode("utf-8", "replace")
        except Exception:  # a body the browser did not keep (a redirect): the headers stay
            body = ""
        self.entries.append(f"< {response.status} {response.url}\n{json.dumps(response.headers)}\n{body}")

    def containing(self, secret: str) -> list[str]:
        pattern = whole(secret)
        return [entry[:300] for entry in self.entries if pattern.search(entry)]


class Shots:
    """Screenshots of each step, numbered in order, under test-artifacts/browser/<test>/."""

    def __init__(self, name: str) -> None:
        self.dir = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        path = self.dir / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def issue_through_the_api(site: DemoSite, person: Person, pin: str = "802468") -> dict:
    """A certificate for `person` as the window would get it, driven over HTTP (the site's
    institution is hosted-only: its own API calls cannot confirm an enrollment)."""
    log_safety.remember_secret(pin)
    started = site.call("POST", "/v1/enrollments", person.identity() | {"terms_accepted": True})
    assert started.status_code == 201, started.text
    minted = site.mint("issue", enrollment_id=started.json()["enrollment_id"])
    window = Window(site.transport(), minted["ticket"])
    assert window.redeem(site.url).status_code == 201
    issued = window.call(
        "POST",
        "/v1/window/issuance",
        {
            "sms_code": last_sms_code(site.stack, person.e164),
            "pin": pin,
            "terms_accepted": True,
            "auto_renew": False,
        },
    )
    assert issued.status_code == 201, issued.text
    return issued.json()


# --- the demo bank's page ----------------------------------------------------------------------


def log_in(page, site_url: str, person: Person) -> None:
    page.goto(site_url + "/")
    page.fill("#login-name", person.name)
    page.fill("#login-phone", person.phone)
    page.fill("#login-birth", person.birth_date)
    page.click("#login-submit")
    page.wait_for_selector("#dashboard:not([hidden])")


def open_window(context, page, selector: str):
    """Click a bank button that opens the window; the window's page once it shows a screen."""
    with context.expect_page() as opened:
        page.click(selector)
    window = opened.value
    window.set_viewport_size(WINDOW_SIZE)
    return window


def bank_outcome(page, timeout: float = 30_000) -> tuple[str, str, Any]:
    """(state, status line, the JSON the bank's back end answered) once the page settles."""
    page.wait_for_selector("#status[data-state=ok], #status[data-state=error]", timeout=timeout)
    state = page.get_attribute("#status", "data-state")
    text = page.inner_text("#status")
    raw = page.inner_text("#result")
    page.evaluate("document.getElementById('status').dataset.state = 'idle'")
    return state, text, json.loads(raw) if raw.strip() else None


def fincert_button(page, purpose: str, ticket: str | None, service: str) -> None:
    """A button on the bank's page calling FinCert[purpose] with a fixed ticket (or one that never
    comes), its outcome kept in window.__outcome. Added through the devtools protocol: the page's
    own CSP would refuse an inline script."""
    page.evaluate(
        """([purpose, ticket, service]) => {
          document.getElementById('test-open')?.remove();
          const button = document.createElement('button');
          button.id = 'test-open';
          button.textContent = 'test: ' + purpose;
          button.addEventListener('click', () => {
            window.__outcome = null;
            const pending = ticket === null ? new Promise(() => {}) : ticket;
            FinCert[purpose]({ service, ticket: pending }).then(
              (result) => { window.__outcome = {ok: true, result}; },
              (error) => { window.__outcome = {ok: false, code: error.code,
                                               isFinCertError: error instanceof FinCert.FinCertError}; });
          });
          document.body.prepend(button);
        }""",
        [purpose, ticket, service],
    )


def button_outcome(page) -> dict:
    page.wait_for_function("() => window.__outcome !== null && window.__outcome !== undefined")
    return page.evaluate("window.__outcome")


def unlabelled_controls(page) -> list[str]:
    """Inputs, selects, textareas and the PIN display without an accessible name."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, [role=textbox]')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !(el.getAttribute('aria-labelledby') || '').split(' ').some(id => {
                           const target = document.getElementById(id);
                           return target && target.textContent.trim();
                         }))
        .map(el => el.outerHTML.slice(0, 120))"""
    )


def identify(
    window, site: DemoSite, person: Person, screen: str = "identity", *, remember: bool = False
) -> None:
    """Name, mobile number and birth date on the window's `screen`, then the SMS code it texts."""
    window.wait_for_selector(f"[data-screen={screen}]")
    window.fill("input[name=name]", person.name)
    window.fill("input[name=phone]", person.phone)
    window.fill("input[name=birth_date]", person.birth_date)
    if remember:
        window.check("input[name=remember]")
    window.keyboard.press("Enter")
    sms_screen = "sms" if screen == "identity" else f"{screen}-sms"
    window.wait_for_selector(f"[data-screen={sms_screen}]")
    window.fill("input[name=sms_code]", last_sms_code(site.stack, person.e164))
    window.keyboard.press("Enter")


def type_pin(window, pin: str) -> None:
    """Focus the PIN pad and type the PIN on the keyboard, then Enter."""
    window.focus(".pin-display")
    window.keyboard.type(pin)
    window.keyboard.press("Enter")


def click_pin(window, pin: str) -> None:
    """The PIN on the pad's buttons, then the form's submit button."""
    for digit in pin:
        window.click(f".pinpad button[data-digit='{digit}']")
    window.click("form button[type=submit]")
