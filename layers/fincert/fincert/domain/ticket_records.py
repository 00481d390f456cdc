"""The records of the hosted window's UI tickets (fincert.domain.ui_tickets owns the rules)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class TicketPurpose(StrEnum):
    ISSUE = "issue"
    CONNECT = "connect"
    SIGN = "sign"
    MANAGE = "manage"


class TicketStatus(StrEnum):
    PENDING = "pending"  # minted, not yet redeemed
    OPEN = "open"  # a window holds it
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # never stored: a pending ticket past its deadline, an open one past the window's


@dataclass(frozen=True)
class TicketContent:
    """One content a sign ticket asks the customer to sign: UTF-8 text (shown in full) or binary
    (shown by name, size and SHA-256, labelled as not displayed). The window shows a binary
    content's file name, so the ticket keeps it until the ticket expires (a day); the signature's
    history does not. fincert.domain.signing.SignContent is what is signed; this record stays
    free of the signing code so the authorizer, which reads tickets, does not import it."""

    kind: str  # "text" or "binary" (fincert.domain.signing.ContentKind)
    data: bytes
    name: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class SignOrder:
    sign_type: str  # fincert.domain.signing.SignType's value
    formats: tuple[str, ...]  # fincert.domain.signing.SignatureFormat values
    contents: tuple[TicketContent, ...]


@dataclass(frozen=True)
class UiTicket:
    ticket_id: str
    institution_id: str
    purpose: TicketPurpose
    origin: str
    scopes: frozenset[str]
    secret_hash: str
    created_at: datetime
    expires_at: datetime  # redeem by then
    status: TicketStatus = TicketStatus.PENDING
    hosted_only: bool = False
    enrollment_id: str | None = None
    sign: SignOrder | None = None
    window_secret_hash: str | None = None
    window_expires_at: datetime | None = None
    account_id: str | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    connect_code_hash: str | None = None
    connect_code_expires_at: datetime | None = None
    connect_code_used: bool = False

    def status_at(self, now: datetime) -> TicketStatus:
        """The status as the bank's back end is told it: pending and open tickets expire."""
        if self.status is TicketStatus.PENDING and self.expires_at <= now:
            return TicketStatus.EXPIRED
        if self.status is TicketStatus.OPEN and (
            self.window_expires_at is None or self.window_expires_at <= now
        ):
            return TicketStatus.EXPIRED
        return self.status
