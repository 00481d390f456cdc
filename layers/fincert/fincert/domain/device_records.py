"""A customer's registered devices and their single-use connection challenges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Device:
    device_id: str
    account_id: str
    name: str
    public_key_der: bytes  # P-256 SubjectPublicKeyInfo
    created_at: datetime
    last_used_at: datetime | None = None
    # SHA-256 (hex) of the key's canonical SPKI (uncompressed point): one key, one fingerprint,
    # however the client encoded it. Empty for devices registered before it was recorded.
    key_fingerprint: str = ""


@dataclass(frozen=True)
class DeviceChallenge:
    challenge_id: str
    account_id: str
    device_id: str
    institution_id: str
    nonce: bytes
    expires_at: datetime
    used: bool = False

    def message(self) -> bytes:
        """What the device signs: domain-separated, naming the institution and the challenge."""
        return f"fincert-device-connect-v1|{self.institution_id}|{self.challenge_id}|".encode() + self.nonce
