"""The usage history: audit entries, without personal data (docs/records.md)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

# The institution of audit entries about what the service does on its own (the idle purge's
# revocations): no institution id can be this (fincert.domain.institutions), so no bank lists them.
SERVICE_ACTOR = "_service"


class HistoryEvent(StrEnum):
    ISSUED = "issued"
    CONNECTED = "connected"
    CONNECTION_FAILED = "connection_failed"  # a wrong SMS code or device signature at connection
    VERIFICATION_FAILED = "verification_failed"  # a wrong SMS code at a PIN reset or status change
    AUTHORIZED = "authorized"
    AUTHORIZATION_FAILED = "authorization_failed"
    SIGNED = "signed"
    DEVICE_REGISTERED = "device_registered"
    DEVICE_REMOVED = "device_removed"
    INSTITUTION_REGISTERED = "institution_registered"
    PIN_CHANGED = "pin_changed"
    PIN_RESET = "pin_reset"
    STATUS_CHANGED = "status_changed"


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the customer's usage history: ids, hashes and outcomes, no personal data."""

    event: HistoryEvent
    at: datetime
    institution_id: str
    credential_id: str | None = None
    detail: dict[str, str] | None = None  # e.g. sign_type, hash (hex), reason code
    entry_id: str = ""
    # The end of the certificate the event concerns, when known: the entry, an audit record, is
    # kept 5 years past the later of it and the event (fincert.domain.retention).
    certificate_not_after: datetime | None = None

    def concerning(self, not_after: datetime | None) -> HistoryEntry:
        """This entry, kept from the end of the certificate ending at `not_after` unless it
        already names one."""
        if self.certificate_not_after is not None or not_after is None:
            return self
        return replace(self, certificate_not_after=not_after)


def history(
    event: HistoryEvent,
    at: datetime,
    institution_id: str,
    credential_id: str | None = None,
    *,
    entry_id: str | None = None,
    certificate_not_after: datetime | None = None,
    **detail: str,
) -> HistoryEntry:
    """The one way a history line is made. `entry_id` tells apart lines of one millisecond;
    random unless the caller needs a retry to write the very same line."""
    return HistoryEntry(
        event=event,
        at=at,
        institution_id=institution_id,
        credential_id=credential_id,
        detail=detail or None,
        entry_id=entry_id or secrets.token_hex(4),
        certificate_not_after=certificate_not_after,
    )
