"""The storage roles the use cases need, in the domain's records (fincert.domain.*_records).
Each use case asks only for the roles it uses (a Protocol combining them, declared beside it);
the composition root wires DynamoDB compositions into them (fincert.adapters.dynamodb: the whole
table, store.DynamoStore, or the narrower *_store.py ones), and the type checker holds each
composition to every role it is wired into.

Every method is one conditional read or write (or one transaction), so invariants hold under
concurrency without read-then-write. Every write under an account is conditioned on the ACCOUNT
item existing, so nothing outlives or resurrects a purged account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

# The records only annotate the roles: importing them here would make every use case import every
# aggregate's records, whichever roles it asks for.
if TYPE_CHECKING:
    from fincert.domain.account_records import Account, Credential, PinSlot, RevocationReason
    from fincert.domain.ca_records import CertificateAuthorityRecord, OcspResponderRecord
    from fincert.domain.device_records import Device, DeviceChallenge
    from fincert.domain.enrollment_records import Enrollment, IssuanceCommit, PreSigningRecord
    from fincert.domain.history_records import HistoryEntry
    from fincert.domain.institution_records import Institution
    from fincert.domain.job_records import (
        DueEntry,
        DuePage,
        IdleState,
        PartitionItem,
        PurgeRecord,
        RenewalCommit,
    )
    from fincert.domain.pin_unlocks import PinUnlock
    from fincert.domain.rate_limits import RateLimit
    from fincert.domain.session_records import Session, SignatureActivation, Verification, VerificationPurpose
    from fincert.domain.status_records import SerialRecord, SerialStatus, StatusChange
    from fincert.domain.ticket_records import UiTicket


# --- institutions and the CA --------------------------------------------------------------------
class Institutions(Protocol):
    def get_institution(self, institution_id: str, *, consistent: bool = False) -> Institution | None:
        """`consistent`: a strongly consistent read, which sees every write acknowledged before it."""
        ...

    def put_institution(self, institution: Institution) -> None:
        """Raises ConditionFailed when the institution exists."""
        ...

    def institutions_of_origin(self, origin: str) -> list[Institution]:
        """The institutions that registered this browser origin, as stored now (CORS preflights)."""
        ...


class InstitutionManagement(Institutions, Protocol):
    """The operator's commands (fincert.domain.institutions); each raises ConditionFailed when
    the institution does not exist (or, for origins, the change does not apply)."""

    def list_institutions(self) -> list[Institution]: ...
    def rotate_api_key(
        self, institution_id: str, new_hash: str, previous_valid_until: datetime | None
    ) -> Institution:
        """None: the current key stops working at once (no previous key kept)."""
        ...

    def set_institution_active(self, institution_id: str, active: bool) -> Institution: ...
    def add_institution_origin(self, institution_id: str, origin: str) -> None: ...
    def remove_institution_origin(
        self, institution_id: str, origins: tuple[str, ...], origin: str
    ) -> None: ...


class CertificateAuthorityRecords(Protocol):
    def get_certificate_authority(self) -> CertificateAuthorityRecord | None: ...
    def put_certificate_authority(self, record: CertificateAuthorityRecord) -> None:
        """Raises ConditionFailed when a CA already exists."""
        ...


class OcspResponderRecords(Protocol):
    def get_ocsp_responder(self) -> OcspResponderRecord | None: ...
    def put_ocsp_responder(self, record: OcspResponderRecord, replaces: int | None) -> None:
        """Raises ConditionFailed when the stored responder's serial is not `replaces`."""
        ...


# --- people, accounts, credentials --------------------------------------------------------------
class AccountReads(Protocol):
    def find_account_id(self, person_index: str) -> str | None: ...
    def get_account(self, account_id: str) -> Account | None: ...
    def get_credential(self, account_id: str, credential_id: str) -> Credential | None: ...


# --- enrollment and issuance --------------------------------------------------------------------
class Enrollments(Protocol):
    def create_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        """Writes the enrollment and counts it against every limit, atomically.
        Raises RateLimited naming the exhausted limit's scope."""
        ...

    def get_enrollment(self, enrollment_id: str) -> Enrollment | None: ...

    def cancel_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        """Undoes create_enrollment (the SMS could not be sent)."""
        ...

    def claim_enrollment(
        self, enrollment_id: str, institution_id: str, now: datetime, lease_until: datetime, max_attempts: int
    ) -> Enrollment:
        """Counts one attempt and takes a lease, on condition that the enrollment belongs to the
        institution, is pending, unexpired, not leased and has attempts left. Raises
        EnrollmentUnavailable carrying the enrollment as stored (or None) when the condition fails.
        Its retry after a lost answer is answered as the claim was, not refused by its own lease."""
        ...

    def release_enrollment(
        self, enrollment_id: str, lease_until: datetime, *, refund_attempt: bool
    ) -> None: ...

    def count_replay(self, enrollment_id: str, institution_id: str, max_replays: int) -> None:
        """Counts one replay of a confirmed enrollment, on condition that fewer than max_replays
        happened. Raises ConditionFailed otherwise (or when it is not this institution's)."""
        ...


class Issuance(Protocol):
    def put_pre_signing_record(self, record: PreSigningRecord) -> None:
        """Raises ConditionFailed if the serial number is already taken."""
        ...

    def commit_issuance(self, commit: IssuanceCommit) -> None:
        """Writes nothing and raises ConditionFailed when a condition fails; its `reasons` name the
        items whose condition failed: "enrollment" (the lease was lost), "account" (the person's
        account or active certificate changed meanwhile), "old_credential", "credential",
        "new_serial"."""
        ...


class PreSigningRecords(Protocol):
    """What the reconciler needs: certificates signed but never stored."""

    def presigned_before(self, cutoff: datetime, limit: int) -> list[int]:
        """Serial numbers of pre-signing records created before `cutoff` whose certificate was
        never stored, oldest first; a query of the sparse `due` index, never a scan."""
        ...

    def revoke_unstored(self, serial_number: int, now: datetime, reason: RevocationReason) -> bool:
        """Revokes a pre-signing record still pending; False when it no longer is (stored or
        revoked meanwhile)."""
        ...


# --- customers: SMS re-verification, sessions, PIN, history -------------------------------------
class Verifications(Protocol):
    def create_verification(self, verification: Verification, limits: Sequence[RateLimit]) -> None:
        """Like create_enrollment: atomically counted against the SMS limits (RateLimited)."""
        ...

    def cancel_verification(self, verification: Verification, limits: Sequence[RateLimit]) -> None: ...
    def claim_verification(
        self,
        verification_id: str,
        institution_id: str,
        purpose: VerificationPurpose,
        now: datetime,
        max_attempts: int,
    ) -> Verification:
        """Counts one attempt, on condition that the verification is this institution's, for this
        purpose, unused, unexpired, with attempts left; else VerificationUnavailable(as stored, or None).
        Its retry after a lost answer is answered as the claim was, counting one attempt."""
        ...

    def refund_verification_attempt(self, verification: Verification) -> None:
        """Gives back the attempt this claim (claim_verification's answer) counted, at most once."""
        ...


class Sessions(Protocol):
    def complete_connection(
        self, verification_id: str, session: Session, history: HistoryEntry, today: date
    ) -> None:
        """Uses the verification once and opens the session, on condition that the account exists."""
        ...

    def get_session(self, account_id: str, session_id: str) -> Session | None: ...
    def get_session_and_institution(
        self, institution_id: str, account_id: str, session_id: str
    ) -> tuple[Session | None, Institution | None]:
        """Both in one round trip, strongly consistent (the authorizer's only read)."""
        ...

    def delete_session(self, account_id: str, session_id: str) -> None: ...


class PinSlots(Protocol):
    """The PIN attempt protocol's storage (fincert.domain.access.PinChecker owns the protocol)."""

    def reserve_pin_attempt(
        self,
        account_id: str,
        now: datetime,
        *,
        credential_id: str | None = None,
        institution_id: str | None = None,
        to_sign: bool = False,
        token: str | None = None,
    ) -> PinSlot:
        """Raises PinSlotRefused(account as stored, or None) when the condition fails. A second
        call with the same token (a retry of a call whose answer was lost) is answered with the
        slot the first one reserved, reserving none; without a token, each call is new."""
        ...

    def pin_judged_wrong(self, slot: PinSlot) -> Account | None:
        """Marks the slot judged wrong; the account after it, or None when the slot was
        forgiven or the PIN replaced meanwhile (nothing written)."""
        ...

    def pin_accepted(self, slot: PinSlot, today: date, history: HistoryEntry, unlock: PinUnlock) -> None:
        """Forgives the attempts up to the slot, records the use and writes what the PIN
        unlocked, in one transaction. Raises ConditionFailed("account") when the PIN (or what
        the unlock is conditioned on) changed meanwhile, "credential"/"serial" for a status change."""
        ...

    def forgive_pin_attempt(self, slot: PinSlot) -> None: ...
    def reset_pin(
        self, verification_id: str, account_id: str, new_pin_verifier: str, today: date, history: HistoryEntry
    ) -> None:
        """A PIN reset the institution's re-verification allowed: the verification used, the new
        verifier with a fresh attempt counter, the history line."""
        ...


class History(Protocol):
    def put_history(self, account_id: str, entry: HistoryEntry) -> None: ...
    def list_history(
        self,
        account_id: str,
        limit: int,
        before: str | None,
        institution_id: str | None = None,
        content_values: Sequence[str] | None = None,
    ) -> tuple[list[HistoryEntry], str | None]:
        """Newest first, at most `limit` entries read (with `institution_id`, only that
        institution's are returned; with `content_values`, only entries whose `hashes` detail
        holds one of them; so a page may hold fewer); the cursor is the last key read."""
        ...


# --- signing --------------------------------------------------------------------------------------
class SignatureActivations(Protocol):
    def load_for_signing(
        self, account_id: str, sad_id: str, credential_id: str
    ) -> tuple[SignatureActivation | None, Credential | None]: ...
    def consume_activation(
        self, activation: SignatureActivation, count: int, now: datetime, history: HistoryEntry
    ) -> None:
        """Raises ConditionFailed when the SAD has fewer than `count` signatures left or expired."""
        ...


# --- devices --------------------------------------------------------------------------------------
class Devices(Protocol):
    def add_device(self, device: Device, max_devices: int, history: HistoryEntry) -> None:
        """Raises ConditionFailed(reasons=["account"]) at max_devices, and with "device_key" when
        the account already has a device with device.key_fingerprint (atomically: two racing
        registrations of one key cannot both succeed). Removing the device frees its key."""
        ...

    def remove_device(self, account_id: str, device_id: str, history: HistoryEntry) -> None: ...
    def list_devices(self, account_id: str) -> list[Device]: ...
    def get_device(self, account_id: str, device_id: str) -> Device | None: ...
    def put_device_challenge(self, challenge: DeviceChallenge) -> None: ...
    def get_device_challenge(self, account_id: str, challenge_id: str) -> DeviceChallenge | None: ...
    def complete_device_connection(
        self, challenge: DeviceChallenge, session: Session, now: datetime, history: HistoryEntry
    ) -> None: ...
    def fail_device_challenge(self, challenge: DeviceChallenge, now: datetime, history: HistoryEntry) -> None:
        """Uses the challenge up (unexpired, unused) and writes the failure's audit entry, in one
        transaction; ConditionFailed, writing nothing, when the challenge was used meanwhile."""
        ...


# --- the hosted window's UI tickets -----------------------------------------------------------------
class UiTickets(Protocol):
    def create_ticket(self, ticket: UiTicket, limit: RateLimit) -> None:
        """Writes the ticket and counts it against the institution's limit, atomically. Raises
        RateLimited (ticket_rate_limited) when the limit is spent."""
        ...

    def get_ticket(self, ticket_id: str) -> UiTicket | None: ...
    def get_ticket_and_institution(
        self, institution_id: str, ticket_id: str
    ) -> tuple[UiTicket | None, Institution | None]:
        """Both in one round trip, strongly consistent (the authorizer's only read)."""
        ...

    def open_ticket(
        self,
        ticket_id: str,
        secret_hash: str,
        origin: str,
        window_secret_hash: str,
        window_expires_at: datetime,
        now: datetime,
    ) -> UiTicket:
        """Redeems, once, a pending, unexpired ticket for `origin` whose secret hashes to
        secret_hash; the window's credential then lasts until window_expires_at. Raises
        TicketUnavailable carrying the ticket as stored (or None) when the condition fails."""
        ...

    def connect_ticket(self, ticket_id: str, account_id: str, now: datetime) -> None:
        """Binds an open window to the customer it connected. Raises ConditionFailed when the
        window is no longer open."""
        ...

    def complete_ticket(
        self,
        ticket_id: str,
        outcome: dict[str, Any],
        now: datetime,
        *,
        account_id: str | None = None,
        connect_code_hash: str | None = None,
        connect_code_expires_at: datetime | None = None,
    ) -> None:
        """Records the outcome of an open window once. Raises ConditionFailed otherwise."""
        ...

    def cancel_ticket(self, ticket_id: str, now: datetime) -> None:
        """Raises ConditionFailed when the ticket is not open."""
        ...

    def exchange_connect_code(self, ticket_id: str, code_hash: str, now: datetime, session: Session) -> None:
        """Uses the connect code once and opens the session, in one transaction. Raises
        ConditionFailed when the code is used, expired or not this one."""
        ...


# --- certificate status -----------------------------------------------------------------------------
class SerialStatuses(Protocol):
    """What OCSP, the CRLs and verification read, and the one write that changes a serial."""

    def set_serial_status(
        self,
        serial_number: int,
        status: SerialStatus,
        *,
        at: datetime,
        reason: str | None = None,
        only_from: Sequence[SerialStatus] = (),
    ) -> bool:
        """Changes a serial's status, its revocation time and reason, and its CRL index entry
        together. False when the `only_from` condition (or existence) failed."""
        ...

    def get_serial_status(self, serial_number: int) -> SerialRecord | None:
        """Strongly consistent: a change shows in the next answer."""
        ...

    def crl_entries(self, partition: str) -> list[SerialRecord]: ...


class VerifiedStatusChanges(Protocol):
    def change_status_verified(
        self, verification_id: str, change: StatusChange, today: date, history: HistoryEntry
    ) -> None:
        """Raises ConditionFailed naming "verification", "account", "credential" or "serial"."""
        ...


# --- scheduled jobs ---------------------------------------------------------------------------------
class DueEntries(Protocol):
    """The sparse `due` index: what a daily job must act on (fincert.adapters.dynamodb.keys)."""

    def due_partitions(self, kind: str) -> list[str]:
        """The due_pk values a sharded kind of entry is spread over."""
        ...

    def query_due(
        self, due_pk: str, before: str, limit: int, start_key: dict[str, str] | None = None
    ) -> DuePage: ...
    def clear_due(self, entry: DueEntry) -> bool:
        """Removes the entry from `due` if it is still as seen; False otherwise."""
        ...


class Renewals(Protocol):
    def take_expiry_notice(self, entry: DueEntry, now: datetime) -> bool: ...
    def return_expiry_notice(self, entry: DueEntry) -> None: ...
    def commit_renewal(self, commit: RenewalCommit) -> None: ...


class IdlePurges(Protocol):
    def get_idle_state(self, account_id: str) -> IdleState | None: ...
    def mark_warned(self, entry: DueEntry, last_used_day: date, today: date) -> bool: ...
    def unmark_warned(self, entry: DueEntry, last_used_day: date) -> None: ...
    def begin_purge(self, state: IdleState, record: PurgeRecord) -> None: ...
    def revoke_for_purge(
        self, account_id: str, serial_number: int, at: datetime, entry: HistoryEntry
    ) -> bool:
        """Revokes an issued or suspended serial (cessationOfOperation) and writes its audit entry,
        in one transaction; False, writing nothing, when the serial is not (or no longer) either."""
        ...

    def account_partition(self, account_id: str) -> list[PartitionItem]: ...
    def copy_legacy_history(self, account_id: str) -> int:
        """Copies the account's history lines written under its partition (before audit
        entries had their own) to where audit entries are kept, each only if not there yet."""
        ...

    def delete_account_items(self, account_id: str, sort_keys: Sequence[str]) -> None: ...
    def finish_purge(self, account_id: str, now: datetime, revoked: Sequence[int], deleted: int) -> None: ...
