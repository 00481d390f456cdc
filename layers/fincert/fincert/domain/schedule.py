"""The time rules of the daily jobs, in one place. Days are Korean calendar days (KST), as the
product rules count them; instants stay UTC.

- Renewal window: a certificate is due for renewal (auto_renew) or for an expiry notice (not
  auto_renew) from the KST day RENEWAL_WINDOW before the KST day of its notAfter. A missed run is
  caught up the next day, since every entry on or before today is due.
- An expired certificate (now past notAfter) is never renewed: the customer reissues.
- Idle purge: an account last used on day L is warned on day L + 335 and purged on day L + 365
  (365 calendar days without use), and never less than WARNING_NOTICE after its warning.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fincert.clock import kst_date

RENEWAL_WINDOW = timedelta(days=30)
IDLE_PERIOD = timedelta(days=365)
WARNING_NOTICE = timedelta(days=30)


def renewal_window_start(not_after: datetime) -> date:
    return kst_date(not_after) - RENEWAL_WINDOW


def is_expired(not_after: datetime, now: datetime) -> bool:
    # notAfter is the last second of validity (RFC 5280 4.1.2.5: inclusive).
    return now > not_after


def purge_day(last_used_day: date) -> date:
    return last_used_day + IDLE_PERIOD


def warning_day(last_used_day: date) -> date:
    return purge_day(last_used_day) - WARNING_NOTICE


def may_purge(last_used_day: date, warned_on: date | None, today: date) -> bool:
    """365 days without use, and the warning went out at least 30 days ago (an account whose
    warning was late, e.g. the job was down, gets its full 30 days)."""
    return warned_on is not None and today >= purge_day(last_used_day) and today >= warned_on + WARNING_NOTICE
