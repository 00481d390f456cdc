"""Keyed digests of signed contents: what an audit entry (a history line) keeps of a content.

A plain SHA-256 of a templated content ("transfer 10,000 KRW to account X") is reversed by hashing
every likely text; a keyed digest is not, without the key. The key is derived once per process
from the content KMS HMAC key, not the identity one (one GenerateMac over a fixed label) and kept in memory, so a signature
costs no KMS call for it: a container's first one pays it once (the signing budgets,
docs/design.md#round-trips, count warm containers). An extra KMS call per signature would break
them; a key of our own stored in the table would be one more read, and readable with the table.

Format v1: "v1:" + hex HMAC-SHA-256(key, "fincert-content-v1|" + the content's SHA-256 digest).
KMS HMAC keys do not rotate: a new key is a new version, as for blind indexes. Entries written
before this format hold the plain hex digest, without a prefix.

Who holds a content matches it by asking the service, which computes the keyed value for them
(GET /v1/history?content_sha256=...): the key never leaves the service.
"""

from __future__ import annotations

import hashlib
import hmac
from threading import Lock

from fincert.ports import KeyManagement

CONTENT_MAC_VERSION = "v1"
# The label the process's key is derived from; changing it changes every value: a new version.
_KEY_LABEL = b"fincert-content-mac-key-v1"
_DOMAIN = b"fincert-content-v1|"


class ContentMacs:
    def __init__(self, kms: KeyManagement, content_mac_key_id: str):
        self._kms = kms
        self._hmac_key_id = content_mac_key_id
        self._key: bytes | None = None
        self._lock = Lock()

    def of(self, sha256_digest: bytes) -> str:
        """The keyed value an audit entry keeps of a content whose SHA-256 is `sha256_digest`."""
        if len(sha256_digest) != hashlib.sha256().digest_size:
            raise ValueError("a SHA-256 digest is 32 bytes")
        mac = hmac.new(self._derived_key(), _DOMAIN + sha256_digest, hashlib.sha256).hexdigest()
        return f"{CONTENT_MAC_VERSION}:{mac}"

    def _derived_key(self) -> bytes:
        with self._lock:
            if self._key is None:
                self._key = self._kms.generate_mac(self._hmac_key_id, _KEY_LABEL)
            return self._key
