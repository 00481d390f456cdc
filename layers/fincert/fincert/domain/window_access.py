"""The service's window's credential (docs/hosted-window.md): the authorizer's third kind of
bearer token, scoped to one UI ticket. Apart from the bank API's session tokens (access.py), so
the API functions, which only refuse it (access.require_not_window), need none of the tickets'
records."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fincert.domain.access import secret_matches
from fincert.domain.institution_records import Principal
from fincert.domain.institutions import INSTITUTION_ID
from fincert.domain.ticket_records import TicketStatus
from fincert.errors import Unauthenticated

if TYPE_CHECKING:
    from fincert.domain.stores import UiTickets
    from fincert.domain.ticket_records import UiTicket
    from fincert.ports import Clock


WINDOW_PREFIX = "fcw"
TICKET_ID = re.compile(r"tkt_[A-Za-z0-9_-]{22}")
_WINDOW_TOKEN = re.compile(rf"fcw\.({INSTITUTION_ID.pattern})\.({TICKET_ID.pattern})\.([A-Za-z0-9_-]{{43}})")


def window_token(institution_id: str, ticket_id: str, secret: str) -> str:
    return f"{WINDOW_PREFIX}.{institution_id}.{ticket_id}.{secret}"


def is_window_token(token: str) -> bool:
    return token.startswith(WINDOW_PREFIX + ".")


def parse_window_token(token: str) -> tuple[str, str, str]:
    """(institution id, ticket id, secret)."""
    match = _WINDOW_TOKEN.fullmatch(token)
    if not match:
        raise Unauthenticated()
    return match.group(1), match.group(2), match.group(3)


def authenticate_window(store: UiTickets, clock: Clock, token: str) -> Principal:
    """The principal a window credential stands for (the authorizer's third kind of token);
    Unauthenticated for anything malformed, unknown, closed or expired, or its institution
    deactivated, all alike. One round trip: the ticket with the institution."""
    institution_id, ticket_id, secret = parse_window_token(token)
    ticket, institution = store.get_ticket_and_institution(institution_id, ticket_id)
    if (
        ticket is None
        or ticket.institution_id != institution_id
        or not secret_matches(ticket.window_secret_hash, secret)
        or institution is None
        or not institution.active
    ):
        raise Unauthenticated()
    now = clock.now()
    # A completed flow keeps its window until it expires (remembering this browser afterwards).
    window_open = ticket.window_expires_at is not None and ticket.window_expires_at > now
    if ticket.status not in (TicketStatus.OPEN, TicketStatus.COMPLETED) or not window_open:
        raise Unauthenticated("the window's flow has ended", code="window_closed")
    return window_principal(ticket)


def window_principal(ticket: UiTicket) -> Principal:
    return Principal(
        institution_id=ticket.institution_id,
        scopes=ticket.scopes,
        account_id=ticket.account_id,
        allowed_origins=(ticket.origin,),
        hosted_only=ticket.hosted_only,
        window_ticket_id=ticket.ticket_id,
    )
