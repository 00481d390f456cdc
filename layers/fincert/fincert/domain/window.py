"""The service's own window: what it may do for the one UI ticket it redeemed
(docs/hosted-window.md). Every step is a use case the bank API already has (connection, device
connection, issuance, signing, devices), run for the ticket's institution and, once the window
has connected a customer, for that customer; what the window adds is the scope: one purpose,
the exact contents the ticket names, one origin, one flow.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from fincert.domain.access import secret_matches
from fincert.domain.account_records import Credential
from fincert.domain.accounts import AccountService, Connected, VerificationStarted
from fincert.domain.devices import DeviceChallengeIssued, DeviceService
from fincert.domain.institution_records import Principal
from fincert.domain.session_records import VerificationPurpose
from fincert.domain.stores import AccountReads, Institutions, Sessions, UiTickets
from fincert.domain.ticket_records import TicketPurpose, TicketStatus, UiTicket
from fincert.domain.tokens import secret_hash
from fincert.domain.ui_tickets import parse_ticket_token
from fincert.domain.window_access import window_token
from fincert.errors import (
    ConditionFailed,
    Conflict,
    Forbidden,
    Gone,
    TicketUnavailable,
    Unauthenticated,
)
from fincert.ports import Clock
from fincert.settings import Settings


class WindowStorage(UiTickets, Sessions, Institutions, AccountReads, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


@dataclass(frozen=True)
class OpenedWindow:
    ticket: UiTicket
    token: str


@dataclass(frozen=True)
class WindowView:
    """What the window shows: the ticket, the bank that asked, and the connected customer's
    certificate (the one that will sign)."""

    ticket: UiTicket
    institution_name: str
    credential: Credential | None


def _closed() -> Exception:
    return Gone("this window's flow has ended", code="window_closed")


class WindowService:
    def __init__(
        self,
        *,
        store: WindowStorage,
        clock: Clock,
        settings: Settings,
        accounts: AccountService,
        devices: DeviceService,
    ):
        self._store = store
        self._clock = clock
        self._settings = settings
        self._accounts = accounts
        self._devices = devices

    # --- the ticket becomes a window credential ------------------------------------------------
    def redeem(self, ticket_token: str, opener_origin: str) -> OpenedWindow:
        """Once per ticket, and only for the origin the bank named: the window reports the
        origin its opener's message came from (the browser sets it; the page cannot)."""
        ticket_id, secret = parse_ticket_token(ticket_token)
        now = self._clock.now()
        # The institution first: a deactivated bank's ticket opens nothing and is not used up, so
        # it still opens its window if the bank is reactivated within its 2 minutes. A
        # deactivation racing this check is caught by the authorizer, which refuses the window's
        # credential on its first request.
        stored = self._store.get_ticket(ticket_id)
        if stored is not None:
            institution = self._store.get_institution(stored.institution_id, consistent=True)
            if institution is None or not institution.active:
                raise Unauthenticated("the ticket is not valid", code="ticket_invalid")
        window_secret = secrets.token_urlsafe(32)
        try:
            ticket = self._store.open_ticket(
                ticket_id,
                secret_hash(secret),
                opener_origin,
                secret_hash(window_secret),
                now + timedelta(seconds=self._settings.window_ttl_seconds),
                now,
            )
        except TicketUnavailable as e:
            raise _unredeemable(e.stored, secret, opener_origin, now) from None
        return OpenedWindow(ticket, window_token(ticket.institution_id, ticket_id, window_secret))

    def flow(self, principal: Principal) -> WindowView:
        """The flow as it is now (a reconnect, a completion), for the window to show."""
        return self.view(self._ticket(principal))

    def view(self, ticket: UiTicket) -> WindowView:
        institution = self._store.get_institution(ticket.institution_id)
        credential = None
        if ticket.account_id is not None:
            account = self._store.get_account(ticket.account_id)
            if account is not None and account.active_credential_id is not None:
                credential = self._store.get_credential(account.account_id, account.active_credential_id)
        return WindowView(ticket, institution.name if institution else ticket.institution_id, credential)

    def cancel(self, principal: Principal) -> None:
        ticket = self._ticket(principal)
        try:
            self._store.cancel_ticket(ticket.ticket_id, self._clock.now())
        except ConditionFailed:
            raise _closed() from None

    # --- connecting the customer ---------------------------------------------------------------
    def start_connection(
        self, principal: Principal, name: str, phone: str, birth_date: str
    ) -> VerificationStarted:
        ticket = self.open_for(principal, not_for=TicketPurpose.ISSUE)
        return self._accounts.start_verification(
            for_institution(ticket), VerificationPurpose.CONNECT, name, phone, birth_date
        )

    def confirm_connection(self, principal: Principal, verification_id: str, sms_code: str) -> UiTicket:
        ticket = self.open_for(principal, not_for=TicketPurpose.ISSUE)
        connected = self._accounts.confirm_connection(for_institution(ticket), verification_id, sms_code)
        return self._bind(ticket, connected)

    def start_device_connection(self, principal: Principal, device_handle: str) -> DeviceChallengeIssued:
        ticket = self.open_for(principal, not_for=TicketPurpose.ISSUE)
        return self._devices.start_device_connection(for_institution(ticket), device_handle)

    def confirm_device_connection(
        self, principal: Principal, challenge_id: str, signature: bytes
    ) -> UiTicket:
        ticket = self.open_for(principal, not_for=TicketPurpose.ISSUE)
        connected = self._devices.confirm_device_connection(for_institution(ticket), challenge_id, signature)
        return self._bind(ticket, connected)

    def _bind(self, ticket: UiTicket, connected: Connected) -> UiTicket:
        account_id = connected.opened.session.account_id
        try:
            self._store.connect_ticket(ticket.ticket_id, account_id, self._clock.now())
        finally:
            # The window acts through its own credential; the session the connection opened
            # was never handed to anyone.
            with contextlib.suppress(Exception):
                self._store.delete_session(account_id, connected.opened.session.session_id)
        return replace(ticket, account_id=account_id)

    # --- what the ticket was minted for (issuance and signing: window_issuance, window_signing)
    def connect_code(self, principal: Principal) -> tuple[str, datetime]:
        """The one-time code the window hands the bank's page; its back end exchanges it for a
        customer session (fincert.domain.ui_tickets.UiTicketService.exchange_connect_code)."""
        ticket = self.open_for(principal, purpose=TicketPurpose.CONNECT)
        if ticket.account_id is None:
            raise not_connected()
        code = secrets.token_urlsafe(24)
        expires_at = self._clock.now() + timedelta(seconds=self._settings.connect_code_ttl_seconds)
        self.complete(ticket, {}, connect_code_hash=secret_hash(code), connect_code_expires_at=expires_at)
        return code, expires_at

    def finish(self, principal: Principal) -> None:
        """A manage window's customer is done: the bank's back end sees it completed."""
        self.complete(self.open_for(principal, purpose=TicketPurpose.MANAGE), {})

    def customer(
        self,
        principal: Principal,
        purposes: tuple[TicketPurpose, ...] = tuple(TicketPurpose),
        *,
        after_completion: bool = False,
    ) -> Principal:
        """The connected customer, as the customer use cases (devices, PIN, certificate, history)
        take it: for the ticket's institution, through this window. after_completion: also once
        the ticket's purpose is done (remembering this browser after an issuance or a signature)."""
        ticket = self._ticket(principal)
        if ticket.purpose not in purposes:
            raise _mismatch()
        if not (
            ticket.status is TicketStatus.OPEN
            or (after_completion and ticket.status is TicketStatus.COMPLETED)
        ):
            raise _closed()
        if ticket.account_id is None:
            raise not_connected()
        return replace(principal, account_id=ticket.account_id)

    def institution(self, principal: Principal, purposes: tuple[TicketPurpose, ...]) -> Principal:
        """The ticket's institution, for the re-verification flows (forgotten PIN, restore)."""
        ticket = self._ticket(principal)
        if ticket.purpose not in purposes:
            raise _mismatch()
        if ticket.status is not TicketStatus.OPEN:
            raise _closed()
        return for_institution(ticket)

    # --- helpers -------------------------------------------------------------------------------
    def _ticket(self, principal: Principal) -> UiTicket:
        if principal.window_ticket_id is None:
            raise Forbidden("this call takes a window credential", code="window_credential_required")
        ticket = self._store.get_ticket(principal.window_ticket_id)
        if ticket is None:
            raise Unauthenticated()
        if ticket.status_at(self._clock.now()) is TicketStatus.EXPIRED:
            raise _closed()
        return ticket

    def open_for(
        self,
        principal: Principal,
        *,
        purpose: TicketPurpose | None = None,
        not_for: TicketPurpose | None = None,
    ) -> UiTicket:
        ticket = self._ticket(principal)
        if (purpose is not None and ticket.purpose is not purpose) or ticket.purpose is not_for:
            raise _mismatch()
        if ticket.status is not TicketStatus.OPEN:
            raise _closed()
        return ticket

    def complete(self, ticket: UiTicket, outcome: dict[str, Any], **fields: Any) -> None:
        try:
            self._store.complete_ticket(ticket.ticket_id, outcome, self._clock.now(), **fields)
        except ConditionFailed:
            raise _closed() from None


def for_institution(ticket: UiTicket) -> Principal:
    """The ticket's institution, as the bank API's use cases take it, marked as this window: the
    window does what the institution's back end could, and takes PINs and codes even for a
    hosted-only institution."""
    return Principal(
        institution_id=ticket.institution_id,
        scopes=ticket.scopes,
        hosted_only=ticket.hosted_only,
        window_ticket_id=ticket.ticket_id,
    )


def _mismatch() -> Exception:
    return Forbidden("this window was not opened for that", code="window_purpose_mismatch")


def not_connected() -> Exception:
    return Forbidden("connect the customer in this window first", code="window_not_connected")


def _unredeemable(stored: UiTicket | None, secret: str, opener_origin: str, now: datetime) -> Exception:
    if stored is None or not secret_matches(stored.secret_hash, secret):
        return Unauthenticated("the ticket is not valid", code="ticket_invalid")
    if stored.status is not TicketStatus.PENDING:
        return Conflict("the ticket was already used", code="ticket_used")
    if stored.expires_at <= now:
        return Gone("the ticket expired; ask the bank's page for a new one", code="ticket_expired")
    if stored.origin != opener_origin:
        return Forbidden(
            "the page that opened this window is not the ticket's origin", code="origin_mismatch"
        )
    return Conflict("the ticket was already used", code="ticket_used")
