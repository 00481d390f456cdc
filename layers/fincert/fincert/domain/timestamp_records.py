"""The time-stamping authority (RFC 3161): its key and certificate, and its ledger of tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimestampAuthorityRecord:
    """The time-stamping authority: its KMS key and the certificate the issuing CA gave it."""

    key_id: str
    certificate_der: bytes
    serial_number: int
    not_after: datetime
    created_at: datetime


@dataclass(frozen=True)
class TimestampRecord:
    """What the time-stamping authority's ledger keeps of a token (fincert.domain.timestamping):
    no personal data, only ids, hashes and times."""

    serial_number: int
    hash_algorithm: str
    imprint: bytes
    gen_time: datetime
    institution_id: str
    caller: str  # "institution" | "customer"
    expires_at: datetime
