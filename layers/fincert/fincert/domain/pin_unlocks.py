"""What a correct PIN unlocks, written in the same transaction that accepts the PIN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fincert.domain.session_records import SignatureActivation
    from fincert.domain.status_records import StatusChange
    from fincert.domain.timestamp_records import TimestampRecord


@dataclass(frozen=True)
class GrantActivation:
    """CSC credentials/authorize: a SAD for this many signatures."""

    activation: SignatureActivation


@dataclass(frozen=True)
class RegisterInstitution:
    """타기관 등록: the certificate becomes usable at this institution."""

    institution_id: str


@dataclass(frozen=True)
class ReplacePin:
    """A PIN change: the new verifier, with a fresh attempt counter."""

    pin_verifier: str


@dataclass(frozen=True)
class ApplyStatusChange:
    """A suspension or revocation the customer asked for with the PIN."""

    change: StatusChange


@dataclass(frozen=True)
class ReleaseSignature:
    """A FinCert signature already made: returned only if this credential is still the active,
    unsuspended one when the acceptance commits (a suspension racing the signature wins). Its
    time-stamp tokens are recorded in the same commit (fincert.domain.timestamping): a token is
    on record exactly when it is returned."""

    credential_id: str
    timestamps: tuple[TimestampRecord, ...] = ()


PinUnlock = GrantActivation | RegisterInstitution | ReplacePin | ApplyStatusChange | ReleaseSignature
