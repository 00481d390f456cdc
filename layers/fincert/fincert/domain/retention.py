"""How long each kind of record is kept: the one place these periods are stated. The store
turns them into TTL attributes at write time. docs/records.md lists every record type."""

from __future__ import annotations

from datetime import datetime, timedelta

# Records a certification service keeps (audit entries, serial records, the purge's audit
# record): 5 years, as Korea's Electronic Financial Transactions Act asks of transaction
# records. Counted in days of a leap-year-rich span so 5 calendar years are always covered.
RECORD_RETENTION = timedelta(days=5 * 366)

# The longest a certificate runs (3 calendar years, docs/design.md#product-rules), as a bound:
# an event about a certificate happens after its issuance, so its notAfter is at most this far
# after the event.
LONGEST_VALIDITY = timedelta(days=3 * 366)

# An enrollment or SMS verification outlives its few minutes of validity so an identical retry
# (a lost answer) can still be answered.
PENDING_REQUEST_RETENTION = timedelta(days=1)


def audit_retained_until(event_at: datetime, certificate_not_after: datetime | None) -> datetime:
    """When an audit entry may go: 5 years after the later of the event and the end of the
    certificate it concerns, fixed when the entry is written. With no certificate known (an
    account stored before it recorded its certificate's notAfter), the longest validity is
    assumed, which keeps the entry at least as long as the rule asks."""
    ends = certificate_not_after if certificate_not_after is not None else event_at + LONGEST_VALIDITY
    return max(event_at, ends) + RECORD_RETENTION


def serial_retained_until(not_after: datetime) -> datetime:
    """A serial record (what OCSP, the CRLs and the verify call read): 5 years past notAfter,
    so a signature can still be judged, and a purged account's revocation still shown, then."""
    return not_after + RECORD_RETENTION
