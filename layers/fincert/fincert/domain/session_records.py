"""A customer's SMS re-verifications, sessions and signature activations (SADs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class VerificationPurpose(StrEnum):
    """What an SMS re-verification of a customer is for."""

    CONNECT = "connect"  # cloud connection: name + phone + birth date + SMS code -> session
    PIN_RESET = "pin_reset"  # the institution re-verifies the customer, who sets a new PIN
    STATUS_CHANGE = "status_change"  # ... who suspends, restores or revokes the certificate


@dataclass(frozen=True)
class Verification:
    """A pending SMS challenge. account_id is None when the identity matched no account: the
    caller cannot tell (no account enumeration), only a correct code reveals it."""

    verification_id: str
    purpose: VerificationPurpose
    institution_id: str
    account_id: str | None
    challenge_ciphertext: bytes  # the code and the birth date; context: this verification
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    used: bool = False
    # The token of the attempt this copy counted (a claim), so that giving it back is done once.
    claim: str | None = None


@dataclass(frozen=True)
class Session:
    """A customer's connection through one institution. The token's secret is stored only as a
    hash; the token names the account and the session so the authorizer needs one GetItem."""

    session_id: str
    account_id: str
    institution_id: str
    secret_hash: str
    created_at: datetime
    expires_at: datetime
    via: str  # "sms" or "device"
    # The institution's origins and hosted-only setting are read with the session, not kept in
    # it (sessions written before carry them; nothing reads them).
    device_id: str | None = None


@dataclass(frozen=True)
class SignatureActivation:
    """A SAD (CSC "signature activation data"): authorises `remaining` signatures with one
    credential, through one institution, for a few minutes, optionally for exact hashes only."""

    sad_id: str
    account_id: str
    credential_id: str
    institution_id: str
    secret_hash: str
    hashes: frozenset[str]  # base64 of the digests it may sign; empty: any
    remaining: int
    expires_at: datetime
