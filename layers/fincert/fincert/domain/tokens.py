"""Random identifiers, and the hash under which a random secret (an API key, a session token, a
SAD) is stored: the table never holds the secret itself."""

from __future__ import annotations

import hashlib
import secrets


def new_id(prefix: str) -> str:
    """128 random bits, URL-safe: ids that name accounts, credentials, sessions are unguessable."""
    return f"{prefix}_{secrets.token_urlsafe(16)}"


def secret_hash(secret: str) -> str:
    # The secrets are 256 random bits, so a fast hash is enough; slow hashes exist for guessable
    # passwords, and would only add latency to every request here.
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()
