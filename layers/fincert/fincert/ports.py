"""Interfaces the domain needs from the outside world. Adapters (boto3) and test fakes implement
them; nothing here imports boto3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

from fincert.domain.model import (
    Account,
    CertificateAuthorityRecord,
    Credential,
    DueEntry,
    DuePage,
    Enrollment,
    IdleState,
    Institution,
    IssuanceCommit,
    PartitionItem,
    PreSigningRecord,
    PurgeRecord,
    RateLimit,
    RenewalCommit,
    RevocationReason,
)


class KeyManagement(Protocol):
    """KMS as the domain sees it. Key ids are whatever the settings hold (id, ARN or alias)."""

    def sign(self, key_id: str, message: bytes, algorithm: str, *, is_digest: bool = False) -> bytes:
        """Sign `message` with an asymmetric key. `algorithm` is a KMS SigningAlgorithm name
        (RSASSA_PKCS1_V1_5_SHA_256, RSASSA_PSS_SHA_256, ECDSA_SHA_256). With is_digest=True,
        `message` is already the SHA-256 digest (KMS MessageType=DIGEST)."""
        ...

    def public_key_der(self, key_id: str) -> bytes:
        """The key's SubjectPublicKeyInfo, DER."""
        ...

    def encrypt(self, key_id: str, plaintext: bytes, context: Mapping[str, str]) -> bytes: ...

    def decrypt(self, key_id: str, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        """Raises fincert.errors.DecryptionRefused when the key or the context do not match."""
        ...

    def generate_mac(self, key_id: str, message: bytes) -> bytes:
        """HMAC-SHA-256 under a KMS HMAC key."""
        ...

    def verify_mac(self, key_id: str, message: bytes, mac: bytes) -> bool: ...


class SmsSender(Protocol):
    def send_sms(self, phone_e164: str, text: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class Store(Protocol):
    """The table as the domain sees it: every method is one conditional read or write (or one
    transaction), so invariants hold under concurrency without read-then-write."""

    # institutions and the CA
    def get_institution(self, institution_id: str) -> Institution | None: ...
    def put_institution(self, institution: Institution) -> None: ...
    def get_certificate_authority(self) -> CertificateAuthorityRecord | None: ...
    def put_certificate_authority(self, record: CertificateAuthorityRecord) -> None:
        """Raises ConditionFailed when a CA already exists."""
        ...

    # people and accounts
    def find_account_id(self, person_index: str) -> str | None: ...
    def get_account(self, account_id: str) -> Account | None: ...
    def get_credential(self, account_id: str, credential_id: str) -> Credential | None: ...

    # enrollment
    def create_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        """Writes the enrollment and counts it against every limit, atomically.
        Raises RateLimited naming the exhausted limit's scope."""
        ...

    def cancel_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        """Undoes create_enrollment (the SMS could not be sent)."""
        ...

    def claim_enrollment(
        self, enrollment_id: str, institution_id: str, now: datetime, lease_until: datetime, max_attempts: int
    ) -> Enrollment:
        """Counts one attempt and takes a lease, on condition that the enrollment belongs to the
        institution, is pending, unexpired, not leased and has attempts left. Raises
        EnrollmentUnavailable carrying the enrollment as stored (or None) when the condition fails."""
        ...

    def release_enrollment(
        self, enrollment_id: str, lease_until: datetime, *, refund_attempt: bool
    ) -> None: ...

    def count_replay(self, enrollment_id: str, institution_id: str, max_replays: int) -> None:
        """Counts one replay of a confirmed enrollment, on condition that fewer than max_replays
        happened. Raises ConditionFailed otherwise (or when it is not this institution's)."""
        ...

    # issuance
    def put_pre_signing_record(self, record: PreSigningRecord) -> None:
        """Raises ConditionFailed if the serial number is already taken."""
        ...

    def presigned_before(self, cutoff: datetime, limit: int) -> list[int]:
        """Serial numbers of pre-signing records created before `cutoff` whose certificate was
        never stored, oldest first; a query of the sparse `due` index, never a scan."""
        ...

    def revoke_unstored(self, serial_number: int, now: datetime, reason: RevocationReason) -> bool:
        """Revokes a pre-signing record still pending; False when it no longer is (stored or
        revoked meanwhile)."""
        ...

    def commit_issuance(self, commit: IssuanceCommit) -> None:
        """Writes nothing and raises ConditionFailed when a condition fails; its `reasons` name the
        items whose condition failed: "enrollment" (the lease was lost), "account" (the person's
        account or active certificate changed meanwhile), "old_credential", "credential",
        "new_serial"."""
        ...

    # --- scheduled jobs: auto-renewal and idle purge (fincert.adapters.dynamodb documents the
    # `due` entries they query) ------------------------------------------------------------------
    def due_partitions(self, kind: str) -> list[str]:
        """The due_pk values a sharded kind of entry is spread over."""
        ...

    def query_due(
        self, due_pk: str, before: str, limit: int, start_key: dict[str, str] | None = None
    ) -> DuePage: ...
    def clear_due(self, entry: DueEntry) -> bool:
        """Removes the entry from `due` if it is still as seen; False otherwise."""
        ...

    def take_expiry_notice(self, entry: DueEntry, now: datetime) -> bool: ...
    def return_expiry_notice(self, entry: DueEntry) -> None: ...
    def mark_warned(self, entry: DueEntry, last_used_day: date, today: date) -> bool: ...
    def unmark_warned(self, entry: DueEntry, last_used_day: date) -> None: ...
    def commit_renewal(self, commit: RenewalCommit) -> None: ...
    def revoke_serial(self, serial_number: int, now: datetime, reason: RevocationReason) -> bool: ...
    def get_idle_state(self, account_id: str) -> IdleState | None: ...
    def begin_purge(self, state: IdleState, record: PurgeRecord) -> None: ...
    def account_partition(self, account_id: str) -> list[PartitionItem]: ...
    def delete_account_items(self, account_id: str, sort_keys: Sequence[str]) -> None: ...
    def finish_purge(self, account_id: str, now: datetime, revoked: Sequence[int], deleted: int) -> None: ...


class JobQueue(Protocol):
    """Where a job's planner puts work for its workers (SQS)."""

    def send(self, messages: Sequence[Mapping[str, object]]) -> None:
        """Sends each message (JSON-serialisable); raises ServiceUnavailable if any was not sent."""
        ...
