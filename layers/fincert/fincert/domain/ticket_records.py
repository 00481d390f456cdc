"""The records of the hosted window's UI tickets (fincert.domain.ui_tickets owns the rules)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# What a window may show and sign in one flow: the same limit per content as the API's signing.
MAX_CONTENTS = 10
MAX_CONTENT_BYTES = 8192


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
    (shown by name, size and SHA-256, labelled as not displayed)."""

    kind: str  # "text" or "binary"
    data: bytes
    name: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class SignOrder:
    sign_type: str
    format: str
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
