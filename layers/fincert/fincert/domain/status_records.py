"""Certificate status: the serial's record (OCSP, CRLs) and the customer's status changes, with
the one transition table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fincert.domain.account_records import CredentialStatus


class SerialStatus(StrEnum):
    """The SERIAL#<hex> record's status, what OCSP and the CRLs answer from."""

    PRESIGNED = "presigned"  # the CA is signing (or signed) it; issuance has not stored it yet
    ISSUED = "issued"
    REVOKED = "revoked"
    SUSPENDED = "suspended"  # 효력정지: OCSP "revoked" with certificateHold, on the CRL as such


@dataclass(frozen=True)
class SerialRecord:
    serial_number: int
    status: SerialStatus
    revoked_at: datetime | None = None
    revocation_reason: str | None = None  # an RFC 5280 CRLReason name, e.g. "superseded"


# RFC 5280 5.3.1 reasons a subscriber may give (the API's schema lists these too).
# certificateHold is what a suspension says; removeFromCRL only appears in delta CRLs; the CA and
# AA compromise reasons are not the subscriber's to state.
SUBSCRIBER_REVOCATION_REASONS = (
    "unspecified",
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
)


class StatusAction(StrEnum):
    SUSPEND = "suspend"  # 효력정지
    RESTORE = "restore"  # 효력회복
    REVOKE = "revoke"  # 폐기


@dataclass(frozen=True)
class StatusChange:
    """One change of a credential's status, as the customer asked for it through an institution.
    `reason` is the RFC 5280 CRLReason name recorded: certificateHold for a suspension, the
    customer's reason for a revocation, None for a restore."""

    account_id: str
    credential_id: str
    serial_number: int
    action: StatusAction
    reason: str | None
    at: datetime
    institution_id: str


@dataclass(frozen=True)
class StatusTransition:
    """What one status action starts from and leads to, for the credential and its serial."""

    credential_from: tuple[CredentialStatus, ...]
    credential_to: CredentialStatus
    serial_from: tuple[SerialStatus, ...]
    serial_to: SerialStatus


# The one transition table: the use case checks a request against it, the store conditions its
# writes on it (so two racing changes cannot both win).
STATUS_TRANSITIONS = {
    StatusAction.SUSPEND: StatusTransition(
        (CredentialStatus.ACTIVE,), CredentialStatus.SUSPENDED, (SerialStatus.ISSUED,), SerialStatus.SUSPENDED
    ),
    StatusAction.RESTORE: StatusTransition(
        (CredentialStatus.SUSPENDED,), CredentialStatus.ACTIVE, (SerialStatus.SUSPENDED,), SerialStatus.ISSUED
    ),
    StatusAction.REVOKE: StatusTransition(
        (CredentialStatus.ACTIVE, CredentialStatus.SUSPENDED),
        CredentialStatus.REVOKED,
        (SerialStatus.ISSUED, SerialStatus.SUSPENDED),
        SerialStatus.REVOKED,
    ),
}
