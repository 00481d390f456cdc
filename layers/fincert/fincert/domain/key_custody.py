"""How a subscriber's private key is bound to its owner under KMS. Apart from the modules that
mint keys (issuance, renewal), signing decrypts them: it needs this and none of the minting code."""

from __future__ import annotations


def subscriber_key_context(account_id: str, credential_id: str) -> dict[str, str]:
    """Names the subscriber and the credential: a wrapped key copied onto another customer's
    record fails to decrypt there."""
    return {"purpose": "subscriber-key", "account_id": account_id, "credential_id": credential_id}
