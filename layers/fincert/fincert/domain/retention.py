"""How long each kind of record is kept: the one place these periods are stated. The store
turns them into TTL attributes at write time."""

from __future__ import annotations

from datetime import timedelta

# Records a certification service keeps (usage history, the purge's audit record): 5 years,
# as Korea's Electronic Financial Transactions Act asks of transaction records. Counted in days
# of a leap-year-rich span so 5 calendar years are always covered.
RECORD_RETENTION = timedelta(days=5 * 366)

# An enrollment or SMS verification outlives its few minutes of validity so an identical retry
# (a lost answer) can still be answered.
PENDING_REQUEST_RETENTION = timedelta(days=1)
