"""An in-memory Store implementing fincert.ports.Store, for domain unit tests.

It mirrors fincert.adapters.dynamodb.DynamoStore where the domain can notice: the same conditions
on every write, the same errors (ConditionFailed with the same `reasons` for commit_issuance,
RateLimited "sms_rate_limited" with `retry_after`, EnrollmentUnavailable carrying the stored
enrollment or None), and the same time precision as the table's attributes (ISO seconds for
created_at/not_before/not_after, milliseconds for an enrollment's validity and lease). One lock
around each method makes every call atomic, as a conditional write or a transaction is.

Test helpers (not part of the port, not recorded in `calls`): read-only views of what is stored,
`fail_next` to make a method raise, `set_pin_failures` to seed an account.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from fincert.domain.model import (
    Account,
    CertificateAuthorityRecord,
    Credential,
    CredentialStatus,
    Enrollment,
    EnrollmentStatus,
    Institution,
    IssuanceCommit,
    PreSigningRecord,
    RateLimit,
    RevocationReason,
)
from fincert.errors import ConditionFailed, EnrollmentUnavailable, RateLimited

STORE_METHODS = (
    "get_institution",
    "put_institution",
    "get_certificate_authority",
    "put_certificate_authority",
    "find_account_id",
    "get_account",
    "get_credential",
    "create_enrollment",
    "cancel_enrollment",
    "claim_enrollment",
    "release_enrollment",
    "count_replay",
    "put_pre_signing_record",
    "presigned_before",
    "revoke_unstored",
    "commit_issuance",
)


def _seconds(moment: datetime) -> datetime:
    """What an ISO-seconds attribute gives back (DynamoStore._iso / _from_iso)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def _millis(moment: datetime) -> int:
    """The number DynamoStore writes for a millisecond attribute (and compares in conditions)."""
    return int(moment.timestamp() * 1000)


def _from_millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@dataclass(frozen=True)
class SerialRecord:
    """The SERIAL#<hex> item: the pre-signing record, then the issued or revoked certificate."""

    record: PreSigningRecord
    status: str  # presigned | issued | revoked
    revoked_at: datetime | None = None
    revocation_reason: str | None = None


class InMemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[str] = []
        self._faults: dict[str, list[BaseException]] = {}
        self._institutions: dict[str, Institution] = {}
        self._ca: CertificateAuthorityRecord | None = None
        self._persons: dict[str, str] = {}  # person index -> account id
        self._accounts: dict[str, Account] = {}
        self._credentials: dict[tuple[str, str], Credential] = {}  # (account, credential)
        self._revocations: dict[tuple[str, str], tuple[datetime, str]] = {}
        self._registrations: dict[tuple[str, str], datetime] = {}  # (account, institution)
        self._enrollments: dict[str, Enrollment] = {}
        self._serials: dict[int, SerialRecord] = {}
        self._rates: dict[tuple[str, str, datetime], int] = {}
        self._replays: dict[str, int] = {}

    # --- test control ------------------------------------------------------------------------
    def fail_next(self, method: str, exc: BaseException) -> None:
        """The next call of `method` raises `exc` before touching anything (an AWS fault)."""
        if method not in STORE_METHODS:
            raise ValueError(f"unknown method {method!r}")
        with self._lock:
            self._faults.setdefault(method, []).append(exc)

    def _enter(self, method: str) -> None:
        # Called with the lock held.
        self.calls.append(method)
        pending = self._faults.get(method)
        if pending:
            raise pending.pop(0)

    def set_pin_failures(self, account_id: str, failures: int) -> None:
        with self._lock:
            self._accounts[account_id] = replace(
                self._accounts[account_id], pin_attempts=failures, pin_cleared=0
            )

    # --- read helpers for tests ----------------------------------------------------------------
    def accounts(self) -> list[Account]:
        with self._lock:
            return list(self._accounts.values())

    def person_count(self) -> int:
        with self._lock:
            return len(self._persons)

    def credentials_of(self, account_id: str) -> list[Credential]:
        with self._lock:
            return [c for (aid, _), c in self._credentials.items() if aid == account_id]

    def all_credentials(self) -> list[Credential]:
        with self._lock:
            return list(self._credentials.values())

    def revocation_of(self, account_id: str, credential_id: str) -> tuple[datetime, str] | None:
        with self._lock:
            return self._revocations.get((account_id, credential_id))

    def registrations_of(self, account_id: str) -> dict[str, datetime]:
        with self._lock:
            return {iid: at for (aid, iid), at in self._registrations.items() if aid == account_id}

    def enrollment(self, enrollment_id: str) -> Enrollment | None:
        with self._lock:
            return self._enrollments.get(enrollment_id)

    def enrollment_count(self) -> int:
        with self._lock:
            return len(self._enrollments)

    def serial_record(self, serial: int) -> SerialRecord | None:
        with self._lock:
            return self._serials.get(serial)

    def serial_status(self, serial: int) -> str | None:
        record = self.serial_record(serial)
        return record.status if record else None

    def serial_records(self) -> list[SerialRecord]:
        with self._lock:
            return list(self._serials.values())

    def presigned(self) -> list[PreSigningRecord]:
        """The sparse `due` index's "presigned" partition: signed (maybe) but never stored."""
        with self._lock:
            return [s.record for s in self._serials.values() if s.status == "presigned"]

    def rate_count(self, scope: str, subject: str, window_start: datetime) -> int:
        with self._lock:
            return self._rates.get((scope, subject, _seconds(window_start)), 0)

    def rate_counts(self) -> dict[tuple[str, str, datetime], int]:
        with self._lock:
            return dict(self._rates)

    # --- institutions and the CA ---------------------------------------------------------------
    def get_institution(self, institution_id: str) -> Institution | None:
        with self._lock:
            self._enter("get_institution")
            return self._institutions.get(institution_id)

    def put_institution(self, institution: Institution) -> None:
        with self._lock:
            self._enter("put_institution")
            if institution.institution_id in self._institutions:
                raise ConditionFailed(f"INST#{institution.institution_id} exists")
            self._institutions[institution.institution_id] = replace(
                institution,
                scopes=frozenset(institution.scopes),
                allowed_origins=tuple(institution.allowed_origins),
            )

    def get_certificate_authority(self) -> CertificateAuthorityRecord | None:
        with self._lock:
            self._enter("get_certificate_authority")
            return self._ca

    def put_certificate_authority(self, record: CertificateAuthorityRecord) -> None:
        with self._lock:
            self._enter("put_certificate_authority")
            if self._ca is not None:
                raise ConditionFailed("CA exists")
            self._ca = replace(record, created_at=_seconds(record.created_at))

    # --- people, accounts, credentials ----------------------------------------------------------
    def find_account_id(self, person_index: str) -> str | None:
        with self._lock:
            self._enter("find_account_id")
            return self._persons.get(person_index)

    def get_account(self, account_id: str) -> Account | None:
        with self._lock:
            self._enter("get_account")
            return self._accounts.get(account_id)

    def get_credential(self, account_id: str, credential_id: str) -> Credential | None:
        with self._lock:
            self._enter("get_credential")
            return self._credentials.get((account_id, credential_id))

    # --- enrollment ----------------------------------------------------------------------------
    def create_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        with self._lock:
            self._enter("create_enrollment")
            # Each limit: "attribute_not_exists(count) OR count < limit"; the enrollment: a new item.
            failed = [
                limit.scope
                for limit in limits
                if _rate_key(limit) in self._rates and self._rates[_rate_key(limit)] >= limit.limit
            ]
            if enrollment.enrollment_id in self._enrollments:
                failed.append("enrollment")
            if failed:
                exhausted = [scope for scope in failed if scope != "enrollment"]
                if not exhausted:
                    raise ConditionFailed("transaction condition failed", reasons=failed)
                window_end = limits[0].window_start + timedelta(seconds=limits[0].window_seconds)
                retry_after = max(1, math.ceil((window_end - enrollment.created_at).total_seconds()))
                raise RateLimited(
                    "too many SMS codes requested, retry later",
                    code="sms_rate_limited",
                    retry_after=retry_after,
                    limit=exhausted[0],
                )
            for limit in limits:
                self._rates[_rate_key(limit)] = self._rates.get(_rate_key(limit), 0) + 1
            self._enrollments[enrollment.enrollment_id] = _as_stored(
                replace(
                    enrollment,
                    # create writes neither a lease nor the confirmation attributes
                    lease_until=None,
                    credential_id=None,
                    confirmed_account_id=None,
                    pin_verifier_digest=None,
                )
            )

    def cancel_enrollment(self, enrollment: Enrollment, limits: Sequence[RateLimit]) -> None:
        with self._lock:
            self._enter("cancel_enrollment")
            # Unconditional, like the adapter's ADD -1 and Delete.
            for limit in limits:
                self._rates[_rate_key(limit)] = self._rates.get(_rate_key(limit), 0) - 1
            self._enrollments.pop(enrollment.enrollment_id, None)

    def claim_enrollment(
        self, enrollment_id: str, institution_id: str, now: datetime, lease_until: datetime, max_attempts: int
    ) -> Enrollment:
        with self._lock:
            self._enter("claim_enrollment")
            stored = self._enrollments.get(enrollment_id)
            now_ms = _millis(now)
            if (
                stored is None
                or stored.institution_id != institution_id
                or stored.status != EnrollmentStatus.PENDING
                or not _millis(stored.expires_at) > now_ms
                or not stored.attempts < max_attempts
                or not (stored.lease_until is None or _millis(stored.lease_until) < now_ms)
            ):
                raise EnrollmentUnavailable(stored)
            claimed = _as_stored(replace(stored, lease_until=lease_until, attempts=stored.attempts + 1))
            self._enrollments[enrollment_id] = claimed
            return claimed

    def release_enrollment(self, enrollment_id: str, lease_until: datetime, *, refund_attempt: bool) -> None:
        with self._lock:
            self._enter("release_enrollment")
            stored = self._enrollments.get(enrollment_id)
            # Only our own lease: a later claimant's must not be released by us. A failed
            # condition is silent, as in the adapter.
            if stored is None or stored.lease_until is None:
                return
            if _millis(stored.lease_until) != _millis(lease_until):
                return
            attempts = stored.attempts - 1 if refund_attempt else stored.attempts
            self._enrollments[enrollment_id] = replace(stored, lease_until=None, attempts=attempts)

    # --- issuance ------------------------------------------------------------------------------
    def count_replay(self, enrollment_id: str, institution_id: str, max_replays: int) -> None:
        with self._lock:
            self._enter("count_replay")
            stored = self._enrollments.get(enrollment_id)
            replays = self._replays.get(enrollment_id, 0)
            if (
                stored is None
                or stored.status != EnrollmentStatus.CONFIRMED
                or stored.institution_id != institution_id
                or replays >= max_replays
            ):
                raise ConditionFailed("no replays left")
            self._replays[enrollment_id] = replays + 1

    def put_pre_signing_record(self, record: PreSigningRecord) -> None:
        with self._lock:
            self._enter("put_pre_signing_record")
            if record.serial_number in self._serials:
                raise ConditionFailed(f"SERIAL#{record.serial_number:x} exists")
            stored = replace(
                record, not_after=_seconds(record.not_after), created_at=_seconds(record.created_at)
            )
            self._serials[record.serial_number] = SerialRecord(stored, "presigned")

    def presigned_before(self, cutoff: datetime, limit: int) -> list[int]:
        with self._lock:
            self._enter("presigned_before")
            due = sorted(
                (s.record.created_at, serial)
                for serial, s in self._serials.items()
                if s.status == "presigned" and s.record.created_at < _seconds(cutoff)
            )
            return [serial for _, serial in due[:limit]]

    def revoke_unstored(self, serial_number: int, now: datetime, reason: RevocationReason) -> bool:
        with self._lock:
            self._enter("revoke_unstored")
            stored = self._serials.get(serial_number)
            if stored is None or stored.status != "presigned":
                return False
            self._serials[serial_number] = replace(
                stored, status="revoked", revoked_at=_seconds(now), revocation_reason=reason.value
            )
            return True

    def commit_issuance(self, commit: IssuanceCommit) -> None:
        with self._lock:
            self._enter("commit_issuance")
            self._commit_issuance(commit)

    def _commit_issuance(self, commit: IssuanceCommit) -> None:
        c, account, now = commit.credential, commit.account, commit.now
        acct = account.account_id
        failed: list[str] = []
        # The conditions, in the adapter's transaction order and with its item names.
        if commit.previous is None:
            if account.person_index in self._persons:
                failed.append("account")
            if acct in self._accounts:
                failed.append("account")
        else:
            old_id, old_serial = commit.previous.active_credential_id, commit.previous.active_serial
            current = self._accounts.get(acct)
            if current is None or current.active_credential_id != old_id:
                failed.append("account")
            if old_id and old_serial is not None and (acct, old_id) not in self._credentials:
                failed.append("old_credential")
                # The old serial record is written without a condition (it may have expired).
        if (acct, c.credential_id) in self._credentials:
            failed.append("credential")
        serial = self._serials.get(c.serial_number)
        if serial is None or serial.status != "presigned":
            failed.append("new_serial")
        enrollment = self._enrollments.get(commit.enrollment.enrollment_id)
        if (
            enrollment is None
            or enrollment.status != EnrollmentStatus.PENDING
            or enrollment.lease_until is None
            or _millis(enrollment.lease_until) != _millis(commit.lease_until)
        ):
            failed.append("enrollment")
        if failed:
            raise ConditionFailed("transaction condition failed", reasons=failed)

        # All conditions hold: write everything.
        if commit.previous is None:
            self._persons[account.person_index] = acct
            self._accounts[acct] = Account(
                account_id=acct,
                person_index=account.person_index,
                holder_suffix=account.holder_suffix,
                identity_ciphertext=account.identity_ciphertext,
                pin_verifier=account.pin_verifier,
                created_at=_seconds(account.created_at),
                pin_attempts=0,
                pin_cleared=0,
                active_credential_id=c.credential_id,
                active_serial=c.serial_number,
            )
        else:
            # The adapter's Update sets only these attributes; the rest stays as stored.
            self._accounts[acct] = replace(
                self._accounts[acct],
                active_credential_id=c.credential_id,
                active_serial=c.serial_number,
                pin_verifier=account.pin_verifier,
                pin_attempts=0,
                pin_cleared=0,
            )
            old_id, old_serial = commit.previous.active_credential_id, commit.previous.active_serial
            if old_id and old_serial is not None:
                at = _seconds(now)
                reason = RevocationReason.SUPERSEDED.value
                self._credentials[(acct, old_id)] = replace(
                    self._credentials[(acct, old_id)], status=CredentialStatus.REVOKED
                )
                self._revocations[(acct, old_id)] = (at, reason)
                if old_serial in self._serials:  # gone past notAfter (TTL): nothing to answer for
                    self._serials[old_serial] = replace(
                        self._serials[old_serial], status="revoked", revoked_at=at, revocation_reason=reason
                    )
        self._credentials[(acct, c.credential_id)] = replace(
            c,
            not_before=_seconds(c.not_before),
            not_after=_seconds(c.not_after),
            created_at=_seconds(c.created_at),
        )
        self._registrations[(acct, c.issued_by)] = _seconds(now)
        self._serials[c.serial_number] = replace(self._serials[c.serial_number], status="issued")
        self._enrollments[commit.enrollment.enrollment_id] = replace(
            self._enrollments[commit.enrollment.enrollment_id],
            status=EnrollmentStatus.CONFIRMED,
            credential_id=c.credential_id,
            confirmed_account_id=acct,
            pin_verifier_digest=commit.pin_verifier_digest,
            lease_until=None,
        )


def _rate_key(limit: RateLimit) -> tuple[str, str, datetime]:
    return (limit.scope, limit.subject, _seconds(limit.window_start))


def _as_stored(enrollment: Enrollment) -> Enrollment:
    """The enrollment as DynamoStore reads it back: created_at in seconds, validity and lease in
    milliseconds."""
    lease = enrollment.lease_until
    return replace(
        enrollment,
        created_at=_seconds(enrollment.created_at),
        expires_at=_from_millis(_millis(enrollment.expires_at)),
        lease_until=_from_millis(_millis(lease)) if lease is not None else None,
    )
