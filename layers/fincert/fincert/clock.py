"""The one source of "now", injectable so tests can stand on a leap day or at KST midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

# Product rules count days as Korean calendar days (idle purge: 365 days without use, KST).
KST = timezone(timedelta(hours=9), "KST")


def kst_date(moment: datetime) -> date:
    return moment.astimezone(KST).date()


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and replays: returns `at` until moved."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at
