"""UI tickets: how a bank's back end hands one customer flow to the service's own window, so the
customer types the SMS code and the PIN on the service's origin and the bank never sees them
(docs/hosted-window.md).

A ticket is minted by the bank's back end with its API key and names the institution, the
purpose, the exact origin that receives the result and, for signing, the exact contents. The
window redeems it once for a window credential that acts for that ticket only. Three secrets,
each stored only as a hash: the ticket (`fct.<ticket id>.<secret>`), the window credential
(`fcw.<institution id>.<ticket id>.<secret>`) and, for `connect`, the one-time code the bank's back end exchanges
for a customer session.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from fincert.domain.access import OpenedSession, open_session, require_institution, secret_matches
from fincert.domain.institution_records import Principal, Scope
from fincert.domain.institutions import require_scope
from fincert.domain.rate_limits import RateLimit
from fincert.domain.sign_requests import ContentKind, SignatureFormat, SignContent, check_sign_request
from fincert.domain.stores import Enrollments, Institutions, UiTickets
from fincert.domain.ticket_records import (
    SignOrder,
    TicketPurpose,
    TicketStatus,
    UiTicket,
)
from fincert.domain.tokens import new_id, secret_hash
from fincert.domain.window_access import TICKET_ID
from fincert.errors import ConditionFailed, Gone, InvalidRequest, NotFound, Unauthenticated
from fincert.ports import Clock
from fincert.settings import Settings

TICKET_PREFIX = "fct"
_TICKET_TOKEN = re.compile(rf"fct\.({TICKET_ID.pattern})\.([A-Za-z0-9_-]{{43}})")


# The API key scope each purpose needs: the window acts for the institution, never beyond it.
PURPOSE_SCOPE = {
    TicketPurpose.ISSUE: Scope.ENROLL,
    TicketPurpose.CONNECT: Scope.CONNECT,
    TicketPurpose.SIGN: Scope.CONNECT,
    TicketPurpose.MANAGE: Scope.CONNECT,
}


@dataclass(frozen=True)
class MintedTicket:
    ticket: UiTicket
    token: str


def _secret() -> str:
    return secrets.token_urlsafe(32)


def parse_ticket_token(token: str) -> tuple[str, str]:
    """(ticket id, secret) of a ticket token; Unauthenticated ticket_invalid for anything else."""
    match = _TICKET_TOKEN.fullmatch(token)
    if not match:
        raise Unauthenticated("the ticket is not valid", code="ticket_invalid")
    return match.group(1), match.group(2)


def ticket_rate_limit(settings: Settings, now: datetime, institution_id: str) -> RateLimit:
    window = now.replace(second=0, microsecond=0)
    return RateLimit("ui-ticket", institution_id, window, 60, settings.ui_tickets_per_institution_per_minute)


class TicketStorage(UiTickets, Institutions, Enrollments, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


class UiTicketService:
    """The bank's back end's side: mint a ticket, read its outcome, exchange a connect code."""

    def __init__(self, *, store: TicketStorage, clock: Clock, settings: Settings):
        self._store = store
        self._clock = clock
        self._settings = settings

    def mint(
        self,
        principal: Principal,
        purpose: TicketPurpose,
        origin: str,
        *,
        enrollment_id: str | None = None,
        sign: SignOrder | None = None,
    ) -> MintedTicket:
        require_institution(principal)
        require_scope(principal, PURPOSE_SCOPE[purpose])
        _check_purpose_fields(purpose, enrollment_id, sign)
        institution = self._store.get_institution(principal.institution_id)
        if institution is None or origin not in institution.allowed_origins:
            raise InvalidRequest(
                "the origin must be one the institution registered", code="origin_not_registered"
            )
        now = self._clock.now()
        if enrollment_id is not None:
            enrollment = self._store.get_enrollment(enrollment_id)
            if enrollment is None or enrollment.institution_id != principal.institution_id:
                raise NotFound("no such enrollment", code="enrollment_not_found")
            if enrollment.expires_at <= now or enrollment.status.value != "pending":
                raise Gone("the enrollment is no longer open; start again", code="enrollment_closed")
        secret = _secret()
        ticket = UiTicket(
            ticket_id=new_id("tkt"),
            institution_id=principal.institution_id,
            purpose=purpose,
            origin=origin,
            scopes=principal.scopes,
            secret_hash=secret_hash(secret),
            created_at=now,
            expires_at=now + timedelta(seconds=self._settings.ui_ticket_ttl_seconds),
            hosted_only=institution.hosted_only,
            enrollment_id=enrollment_id,
            sign=sign,
        )
        self._store.create_ticket(ticket, ticket_rate_limit(self._settings, now, principal.institution_id))
        return MintedTicket(ticket, f"{TICKET_PREFIX}.{ticket.ticket_id}.{secret}")

    def describe(self, principal: Principal, ticket_id: str) -> UiTicket:
        require_institution(principal)
        ticket = self._store.get_ticket(ticket_id)
        if ticket is None or ticket.institution_id != principal.institution_id:
            raise NotFound("no such ticket", code="ticket_not_found")
        return ticket

    def exchange_connect_code(self, principal: Principal, ticket_id: str, code: str) -> OpenedSession:
        """The customer session a completed `connect` window leads to, once per code."""
        ticket = self.describe(principal, ticket_id)
        now = self._clock.now()
        if (
            ticket.purpose is not TicketPurpose.CONNECT
            or ticket.status is not TicketStatus.COMPLETED
            or ticket.account_id is None
            or not secret_matches(ticket.connect_code_hash, code)
        ):
            raise InvalidRequest("the code is not valid for this ticket", code="connect_code_invalid")
        if ticket.connect_code_used:
            raise Gone("the code was already exchanged", code="connect_code_used")
        if ticket.connect_code_expires_at is None or ticket.connect_code_expires_at <= now:
            raise Gone("the code expired; connect again", code="connect_code_expired")
        opened = open_session(
            ticket.account_id,
            principal.institution_id,
            now,
            timedelta(seconds=self._settings.session_ttl_seconds),
            via="window",
        )
        try:
            self._store.exchange_connect_code(ticket_id, secret_hash(code), now, opened.session)
        except ConditionFailed:
            raise Gone("the code was already exchanged", code="connect_code_used") from None
        return opened


def _check_purpose_fields(purpose: TicketPurpose, enrollment_id: str | None, sign: SignOrder | None) -> None:
    if (purpose is TicketPurpose.ISSUE) != (enrollment_id is not None):
        raise InvalidRequest(
            "enrollment_id is required for purpose issue and only for it", code="ticket_fields_invalid"
        )
    if (purpose is TicketPurpose.SIGN) != (sign is not None):
        raise InvalidRequest(
            "sign is required for purpose sign and only for it", code="ticket_fields_invalid"
        )
    if sign is not None:
        if any(content.kind == ContentKind.HASH for content in sign.contents):
            raise InvalidRequest(
                "a window shows what it signs: text or bytes, not a hash", code="content_kind_invalid"
            )
        check_sign_request(sign_contents(sign), [SignatureFormat(f) for f in sign.formats])


def sign_contents(sign: SignOrder) -> list[SignContent]:
    """A sign ticket's contents as the signing use case takes them."""
    return [SignContent(ContentKind(c.kind), c.data, c.name) for c in sign.contents]
