"""Who calls: institutions (banks) and the principal the authorizer resolves for each request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Scope(StrEnum):
    """What an institution's API key may do."""

    ENROLL = "enroll"  # enrollment and issuance
    CONNECT = "connect"  # cloud connection, device connection, PIN reset for its customers


@dataclass(frozen=True)
class Institution:
    institution_id: str
    name: str
    api_key_hash: str
    scopes: frozenset[str]
    allowed_origins: tuple[str, ...] = ()
    active: bool = True
    # Hosted-only: no route that takes a PIN or an SMS code serves this institution's own calls;
    # its customers type them in the service's window only (docs/hosted-window.md).
    hosted_only: bool = False
    # A rotated-out key keeps working until this instant (fincert.domain.institutions.rotate_api_key).
    previous_api_key_hash: str | None = None
    previous_key_valid_until: datetime | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the authorizer resolved it: an institution's back end (API key), a
    customer through one institution (a session token: account_id and session_id set), or the
    service's own window acting for one UI ticket of an institution (window_ticket_id set)."""

    institution_id: str
    scopes: frozenset[str]
    account_id: str | None = None
    session_id: str | None = None
    allowed_origins: tuple[str, ...] = ()
    hosted_only: bool = False
    window_ticket_id: str | None = None

    @property
    def is_customer(self) -> bool:
        return self.account_id is not None
