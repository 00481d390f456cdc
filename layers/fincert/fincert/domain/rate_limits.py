"""Counted limits (SMS per phone and institution, UI tickets, time-stamps)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` events per `scope` and `subject` in one window starting at `window_start`."""

    scope: str
    subject: str
    window_start: datetime
    window_seconds: int
    limit: int
