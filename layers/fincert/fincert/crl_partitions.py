"""Which CRL a certificate is listed in: its partition, named by the ISO week of its notAfter.

Deliberately free of cryptography and boto3: the DynamoDB adapter stamps every pre-signing
record with its partition, and the authorizer (which imports the adapter) must stay light.

Why by notAfter week: a partition's certificates all expire within the same seven days, so a
partition's CRL only ever grows until that week and then is no longer needed (RFC 5280 5.1.2.6
lets a CRL drop expired certificates; we stop serving the whole partition). ~157 partitions are
live at any time (3-year validity), each holding one week's worth of issuance: at 10 million
certificates that is ~64,000 certificates per partition, so even a 20% revoked share keeps one
CRL near 700 KB (~55 bytes an entry), one paginated Query of the `crl` index.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

# "2029-w47": ISO year and ISO week (1..53). The URL path segment is "<partition>.crl".
PARTITION_PATTERN = re.compile(r"^(\d{4})-w(\d{2})$")
# A revocation recorded on a serial whose record had already expired (and been deleted by TTL)
# gets this partition: its certificate is past notAfter and belongs in no CRL served.
EXPIRED_PARTITION = "expired"


def crl_partition(not_after: datetime) -> str:
    if not_after.tzinfo is None or not_after.utcoffset() is None:
        raise ValueError("not_after must be a timezone-aware datetime")
    year, week, _ = not_after.astimezone(UTC).isocalendar()
    return f"{year:04d}-w{week:02d}"


def partition_week(partition: str) -> tuple[date, date] | None:
    """(Monday, Sunday) of a partition's week, or None when the name is not a partition."""
    found = PARTITION_PATTERN.fullmatch(partition)
    if not found:
        return None
    year, week = int(found.group(1)), int(found.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    return monday, monday + timedelta(days=6)


def is_live(partition: str, now: datetime, longest_validity: timedelta) -> bool:
    """True for a partition that can hold an unexpired certificate issued by now: its week has
    not ended, and does not start after the latest notAfter a certificate issued now can have.
    Anything else is refused before a CRL is built (each build costs a KMS Sign)."""
    week = partition_week(partition)
    if week is None:
        return False
    monday, sunday = week
    today = now.astimezone(UTC).date()
    return sunday >= today and monday <= (now + longest_validity).astimezone(UTC).date()
