"""A demo bank web site for the local stack: what a bank integrating the hosted window builds.

It runs on another *site* than the service (the service on 127.0.0.1:PORT, the bank on
localhost:PORT+1), as a real bank's site would. Its page loads fincert.js from the service with
the SRI hash and opens the window from click handlers; its back end (this module) holds the
bank's API key, which never reaches the browser, "logs in" a made-up customer, starts enrollments,
mints UI tickets, and after the window is done asks the service for the outcome and verifies the
signatures with the service's verify call. The PIN and the SMS codes never pass through here.

Local only: nothing of it is deployed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from fincert.hosted import script_tag

log = logging.getLogger(__name__)

INSTITUTION_ID = "demo-web-bank"
INSTITUTION_NAME = "데모은행 (Demo Web Bank)"
# The made-up customer the demo logs in (the page lets a tester change it).
DEMO_CUSTOMER = {"name": "김데모", "phone": "010-5555-0100", "birth_date": "19900101"}
COOKIE = "demo_bank_session"
MAX_BODY = 16 * 1024
_STATIC = {
    "/bank.js": ("bank.js", "text/javascript; charset=utf-8"),
    "/bank.css": ("bank.css", "text/css; charset=utf-8"),
}


def _static(name: str) -> bytes:
    return resources.files(__name__).joinpath("static", name).read_bytes()


def e164(phone: str) -> str:
    digits = re.sub(r"[\s-]", "", phone)
    return "+82" + digits[1:] if digits.startswith("0") else digits


@dataclass
class BankSession:
    customer: dict[str, str]
    # ticket_id -> what the bank asked for (purpose, the texts it asked to be signed)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    customer_session: str | None = None  # from a connect: the bank's own later calls


class ServiceError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(f"service answered {status}")
        self.status = status
        self.body = body


class DemoBank:
    """Bind with the constructor (the URL is known at once), then `start(service_url, api_key)`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, public_host: str = "localhost"):
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.bank = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        # Another site than the service's 127.0.0.1: `localhost` is its own registrable name.
        self.origin = f"http://{public_host}:{self.port}"
        self.service_url = ""
        self._api_key = ""
        self.sessions: dict[str, BankSession] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, service_url: str, api_key: str) -> DemoBank:
        self.service_url = service_url.rstrip("/")
        self._api_key = api_key
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-bank", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    # --- the bank's back end talking to the service (API key) -------------------------------

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token or self._api_key}"}
        response = requests.request(method, self.service_url + path, json=body, headers=headers, timeout=30)
        data = response.json() if response.content else None
        if response.status_code >= 400:
            raise ServiceError(response.status_code, data)
        return data

    def sms_url(self, phone: str) -> str:
        """Where a human reads the texts of the local stack (a local-only route of the service)."""
        return f"{self.service_url}/_local/sms?phone={quote(e164(phone))}"

    def new_session(self, customer: dict[str, str]) -> str:
        session_id = secrets.token_urlsafe(24)
        with self._lock:
            self.sessions[session_id] = BankSession(customer)
        return session_id

    def mint_ticket(self, session: BankSession, request: dict[str, Any]) -> dict[str, Any]:
        purpose = request.get("purpose")
        ticket: dict[str, Any] = {"purpose": purpose, "origin": self.origin}
        texts: list[str] = []
        if purpose == "issue":
            # The bank verified the customer (here: the made-up login) and starts the enrollment
            # as today; the window records the terms and auto-renew answers.
            enrollment = self.call(
                "POST",
                "/v1/enrollments",
                {**session.customer, "terms_accepted": True, "auto_renew": True, "key_algorithm": "RSA_2048"},
            )
            ticket["enrollment_id"] = enrollment["enrollment_id"]
        elif purpose == "sign":
            texts = [transfer_text(request.get("transfer") or {})]
            ticket["sign"] = {
                "sign_type": "transfer",
                "formats": ["cms_attached"],
                "contents": [{"text": text} for text in texts],
            }
        elif purpose not in ("connect", "manage"):
            raise ServiceError(400, {"error": {"code": "purpose_invalid", "message": "unknown purpose"}})
        minted = self.call("POST", "/v1/ui-tickets", ticket)
        session.tickets[minted["ticket_id"]] = {"purpose": purpose, "texts": texts}
        return {"ticket": minted["ticket"], "ticket_id": minted["ticket_id"], "purpose": purpose}

    def outcome(self, session: BankSession, request: dict[str, Any]) -> dict[str, Any]:
        """What the service says happened: never what the page claims."""
        ticket_id = str(request.get("ticket_id") or "")
        asked = session.tickets.get(ticket_id)
        if asked is None:
            raise ServiceError(404, {"error": {"code": "ticket_not_found", "message": "not this session's"}})
        answer = self.call("GET", f"/v1/ui-tickets/{quote(ticket_id, safe='')}")
        result: dict[str, Any] = {
            "ticket_id": ticket_id,
            "purpose": answer.get("purpose"),
            "status": answer.get("status"),
        }
        outcome = answer.get("outcome") or {}
        if answer.get("status") != "completed":
            return result
        if asked["purpose"] == "issue":
            result["issued"] = {k: outcome.get(k) for k in ("credential_id", "serial_number")}
        elif asked["purpose"] == "sign":
            # One entry per content, in the order asked; each with its CMS signature.
            signed = outcome.get("contents") or []
            checks = []
            for text, content in zip(asked["texts"], signed, strict=False):
                signature = next(
                    s["signature"] for s in content["signatures"] if s["format"] == "cms_attached"
                )
                verdict = self.call(
                    "POST",
                    "/v1/signatures/verify",
                    {"signature": signature, "format": "cms_attached", "content": text},
                )
                same_digest = content["content_sha256"] == hashlib.sha256(text.encode()).hexdigest()
                checks.append(
                    {
                        "content": text,
                        "signature": signature,
                        "digest_matches": same_digest,
                        "verdict": verdict,
                    }
                )
            result["verified"] = (
                bool(checks)
                and len(checks) == len(asked["texts"])
                and all(c["digest_matches"] and c["verdict"].get("valid") for c in checks)
            )
            result["signatures"] = checks
        elif asked["purpose"] == "connect":
            code = str(request.get("code") or "")
            opened = self.call("POST", f"/v1/ui-tickets/{quote(ticket_id, safe='')}/session", {"code": code})
            session.customer_session = opened["session_token"]
            certificate = self.call("GET", "/v1/certificate", token=session.customer_session)
            result["connected"] = True
            result["certificate"] = {k: certificate.get(k) for k in ("serial_number", "status", "not_after")}
        return result


def transfer_text(transfer: dict[str, Any]) -> str:
    """The exact text the customer is asked to sign for a transfer (what the window must show)."""
    to_account = str(transfer.get("to_account") or "")[:40]
    amount = re.sub(r"[^0-9]", "", str(transfer.get("amount") or ""))[:15] or "0"
    memo = str(transfer.get("memo") or "")[:60]
    return (
        "[데모은행] 계좌 이체\n"
        "출금 계좌: 110-555-010001\n"
        f"입금 계좌: {to_account}\n"
        f"금액: {int(amount):,}원\n"
        f"받는 분 통장 표시: {memo}\n"
        f"요청 시각: {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    )


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoBank"

    @property
    def bank(self) -> DemoBank:
        return self.server.bank  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("demo bank %s", format % args)

    # --- responses ------------------------------------------------------------------------

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        # The bank's own page: its scripts and the SDK from the service, nothing inline.
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'none'; script-src 'self' {self.bank.service_url}; style-src 'self'; "
            "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'none'",
        )
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json", headers)

    def _session(self) -> tuple[str, BankSession] | None:
        cookie = SimpleCookie(self.headers.get("Cookie") or "")
        morsel = cookie.get(COOKIE)
        if morsel is None:
            return None
        session = self.bank.sessions.get(morsel.value)
        return (morsel.value, session) if session else None

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ServiceError(413, {"error": {"code": "too_large", "message": "body too large"}})
        data = json.loads(self.rfile.read(length) or b"{}")
        if not isinstance(data, dict):
            raise ServiceError(400, {"error": {"code": "body_not_object", "message": "a JSON object"}})
        return data

    # --- routes ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            page = _static("index.html").decode("utf-8")
            page = page.replace("{{SDK_SCRIPT}}", script_tag(self.bank.service_url))
            page = page.replace("{{SERVICE_URL}}", self.bank.service_url)
            self._send(200, page.encode(), "text/html; charset=utf-8")
        elif path in _STATIC:
            name, content_type = _STATIC[path]
            self._send(200, _static(name), content_type)
        elif path == "/api/me":
            found = self._session()
            if found is None:
                self._json(200, {"logged_in": False, "default_customer": DEMO_CUSTOMER})
            else:
                customer = found[1].customer
                self._json(
                    200,
                    {
                        "logged_in": True,
                        "customer": customer,
                        "sms_url": self.bank.sms_url(customer["phone"]),
                    },
                )
        else:
            self._json(404, {"error": {"code": "not_found", "message": "no such page"}})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            # Same-origin JSON only: a cross-site form cannot send application/json.
            if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
                raise ServiceError(415, {"error": {"code": "unsupported_media_type", "message": "JSON only"}})
            body = self._body()
            if path == "/api/login":
                customer = {k: str(body.get(k) or DEMO_CUSTOMER[k]).strip()[:50] for k in DEMO_CUSTOMER}
                session_id = self.bank.new_session(customer)
                cookie = f"{COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Strict"
                self._json(200, {"logged_in": True, "customer": customer}, {"Set-Cookie": cookie})
                return
            found = self._session()
            if found is None:
                raise ServiceError(401, {"error": {"code": "login_required", "message": "log in first"}})
            session_id, session = found
            if path == "/api/logout":
                self.bank.sessions.pop(session_id, None)
                self._json(200, {"logged_in": False}, {"Set-Cookie": f"{COOKIE}=; Path=/; Max-Age=0"})
            elif path == "/api/tickets":
                self._json(201, self.bank.mint_ticket(session, body))
            elif path == "/api/outcome":
                self._json(200, self.bank.outcome(session, body))
            else:
                self._json(404, {"error": {"code": "not_found", "message": "no such route"}})
        except ServiceError as e:
            status = e.status if 400 <= e.status < 600 else 502
            self._json(status, e.body or {"error": {"code": "service_error", "message": str(e)}})
        except (ValueError, requests.RequestException) as e:
            self._json(HTTPStatus.BAD_GATEWAY, {"error": {"code": "bank_error", "message": type(e).__name__}})
