"""Enrollment and issuance: a bank vouches for a customer it verified, the customer proves the
phone with an SMS code and chooses a PIN, and the service issues the financial certificate.

Round trips of a confirm (docs/design.md#round-trips budget: 8): claim the enrollment (1), decrypt the
challenge (2), read the account or the person index (3), MAC the PIN (4), wrap the new key (5),
write the pre-signing record (6), sign (7), commit (8). That budget is why the SMS code travels
encrypted with the name and birth date the certificate and the PIN policy need: one Decrypt
answers both questions.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from fincert.crypto.keys import KeyAlgorithm
from fincert.crypto.subject_name import new_holder_suffix
from fincert.domain.access import require_secret_entry_allowed
from fincert.domain.account_records import Account, Credential, CredentialStatus
from fincert.domain.ca import CertificateAuthority
from fincert.domain.enrollment_records import Enrollment, EnrollmentStatus, IssuanceCommit
from fincert.domain.identity import Identity, check_name_fits_certificate, display_name, identity_context
from fincert.domain.institution_records import Principal, Scope
from fincert.domain.institutions import require_scope
from fincert.domain.metrics import CERTIFICATES_ISSUED, ISSUANCE_REFUSED, NO_METRICS, count_sms_refused
from fincert.domain.minting import Holder, mint_credential, require_issuable
from fincert.domain.minting import subscriber_key_context as subscriber_key_context  # re-exported
from fincert.domain.pin import check_new_pin_against_identity, check_pin_shape, make_pin_verifier
from fincert.domain.sms_limits import sms_limits
from fincert.domain.stores import AccountReads, CertificateAuthorityRecords, Enrollments, Issuance
from fincert.domain.tokens import new_id
from fincert.errors import (
    ConditionFailed,
    Conflict,
    EnrollmentUnavailable,
    Gone,
    InProgress,
    InvalidRequest,
    IssuingCaExpiring,
    NotFound,
)
from fincert.ports import Clock, KeyManagement, Metrics, SmsSender
from fincert.settings import Settings


class EnrollmentStorage(Enrollments, Issuance, AccountReads, CertificateAuthorityRecords, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


LEASE = timedelta(seconds=30)
# A confirmed enrollment answers an identical retry with the same certificate, a few times and
# for a short while: each replay checks a PIN, so unbounded replays would be a PIN oracle.
REPLAY_WINDOW = timedelta(minutes=10)
MAX_REPLAYS = 5
_COMMIT_ATTEMPTS = 3


@dataclass(frozen=True)
class EnrollmentRequest:
    name: str
    phone: str
    birth_date: str
    terms_accepted: bool
    auto_renew: bool
    key_algorithm: KeyAlgorithm


@dataclass(frozen=True)
class EnrollmentStarted:
    enrollment_id: str
    expires_at: datetime
    attempts_allowed: int


@dataclass(frozen=True)
class IssuedCertificate:
    credential: Credential
    chain_pem: str  # issuing CA, then root

    @property
    def certificate_pem(self) -> str:
        return (
            x509.load_der_x509_certificate(self.credential.certificate_der)
            .public_bytes(Encoding.PEM)
            .decode()
        )


class EnrollmentService:
    def __init__(
        self,
        *,
        store: EnrollmentStorage,
        kms: KeyManagement,
        sms: SmsSender,
        clock: Clock,
        settings: Settings,
        certificate_authority: Callable[[], CertificateAuthority],
        metrics: Metrics = NO_METRICS,
    ):
        self._store = store
        self._kms = kms
        self._sms = sms
        self._clock = clock
        self._settings = settings
        self._metrics = metrics
        # A callable so the CA is read once per container, when first needed.
        self._certificate_authority = certificate_authority

    # --- step 1: the bank submits the identity it verified; the customer gets an SMS code ------
    def start(self, principal: Principal, request: EnrollmentRequest) -> EnrollmentStarted:
        require_scope(principal, Scope.ENROLL)
        now = self._clock.now()
        identity = Identity.normalise(request.name, request.phone, request.birth_date, today=now.date())
        if not request.terms_accepted:
            raise InvalidRequest("the customer must accept the terms", code="terms_not_accepted")
        expires_at = now + timedelta(seconds=self._settings.enrollment_ttl_seconds)
        # The confirm may come as late as the enrollment's end: no code is texted for a
        # certificate that could not be issued then.
        self._require_issuable(expires_at)

        person_index, phone_index = identity.blind_indexes(self._kms, self._settings.hmac_key_id)
        account_id = self._store.find_account_id(person_index)

        enrollment_id = new_id("enr")
        code = f"{secrets.randbelow(10**6):06d}"
        wrap_key = self._settings.key_wrap_key_id
        # The certificate shows the name as written (spaces kept); the index ignores spacing.
        shown_name = display_name(request.name)
        # The phone too, for the PIN policy (no PIN from the number): the same one Decrypt.
        challenge = json.dumps(
            {"code": code, "name": shown_name, "birth_date": identity.birth_date, "phone": identity.phone}
        )
        enrollment = Enrollment(
            enrollment_id=enrollment_id,
            institution_id=principal.institution_id,
            person_index=person_index,
            phone_index=phone_index,
            account_id=account_id,
            identity_ciphertext=self._kms.encrypt(
                wrap_key, _identity_json(identity), identity_context(person_index)
            ),
            challenge_ciphertext=self._kms.encrypt(
                wrap_key, challenge.encode(), challenge_context(enrollment_id, principal.institution_id)
            ),
            key_algorithm=request.key_algorithm.value,
            auto_renew=request.auto_renew,
            created_at=now,
            expires_at=expires_at,
        )
        limits = sms_limits(self._settings, now, phone_index, principal.institution_id)
        with count_sms_refused(self._metrics):
            self._store.create_enrollment(enrollment, limits)
        try:
            self._sms.send_sms(
                identity.phone, f"[fincert] 금융인증서 발급 인증번호 [{code}]. 타인에게 알려주지 마세요."
            )
        except Exception:
            # No SMS, no enrollment: undo the write and the rate-limit counts, then report.
            self._store.cancel_enrollment(enrollment, limits)
            raise
        return EnrollmentStarted(enrollment_id, enrollment.expires_at, self._settings.enrollment_max_attempts)

    # --- step 2: SMS code + new PIN -> account, key pair, certificate -------------------------
    def confirm(
        self,
        principal: Principal,
        enrollment_id: str,
        sms_code: str,
        pin: str,
        *,
        terms_accepted: bool = True,
        auto_renew: bool | None = None,
    ) -> IssuedCertificate:
        """terms_accepted and auto_renew: the customer's own answers when they confirm in the
        service's window (the bank's start recorded its own); None keeps the enrollment's."""
        require_scope(principal, Scope.ENROLL)
        require_secret_entry_allowed(principal)
        if not terms_accepted:
            raise InvalidRequest("the customer must accept the terms", code="terms_not_accepted")
        check_pin_shape(pin)
        now = self._clock.now()
        # Before the claim: the refused customer keeps the enrollment and its attempts. A replay
        # of a confirm that issued is refused too, for the few minutes it could be asked.
        self._require_issuable(now)
        lease_until = now + LEASE
        try:
            enrollment = self._store.claim_enrollment(
                enrollment_id,
                principal.institution_id,
                now,
                lease_until,
                self._settings.enrollment_max_attempts,
            )
        except EnrollmentUnavailable as e:
            return self._answer_unclaimable(e.stored, principal, now, sms_code, pin)
        if auto_renew is not None:
            enrollment = replace(enrollment, auto_renew=auto_renew)

        committed = False
        refund_attempt = True  # an attempt that never got judged (AWS fault, weak PIN) is given back
        try:
            secret = self._open_challenge(enrollment)
            if not hmac.compare_digest(secret["code"].encode(), sms_code.encode()):
                refund_attempt = False
                remaining = self._settings.enrollment_max_attempts - enrollment.attempts
                raise InvalidRequest(
                    "the SMS code is wrong", code="sms_code_invalid", remaining_attempts=max(remaining, 0)
                )
            check_new_pin_against_identity(
                pin, birth_date=secret["birth_date"], phone_e164=secret.get("phone")
            )
            # Checked when the enrollment started; an enrollment from before that rule still
            # gets a 4xx here, before any key is made, never a failed signing.
            check_name_fits_certificate(secret["name"])
            issued = self._issue(enrollment, lease_until, secret["name"], pin, now)
            committed = True
            return issued
        finally:
            if not committed:
                self._release_quietly(enrollment.enrollment_id, lease_until, refund_attempt)

    def _require_issuable(self, not_before: datetime) -> None:
        try:
            require_issuable(self._certificate_authority(), not_before)
        except IssuingCaExpiring:
            self._metrics.count(ISSUANCE_REFUSED, Channel="enrollment")
            raise

    def _answer_unclaimable(
        self, stored: Enrollment | None, principal: Principal, now: datetime, sms_code: str, pin: str
    ) -> IssuedCertificate:
        if stored is None or stored.institution_id != principal.institution_id:
            # Another institution's enrollment is indistinguishable from none at all.
            raise NotFound("no such enrollment", code="enrollment_not_found")
        if stored.status == EnrollmentStatus.CONFIRMED:
            return self._replay(stored, now, sms_code, pin)
        if stored.lease_until is not None and stored.lease_until >= now:
            # A confirm is in flight (perhaps the client's own, timed out): its outcome decides,
            # so "expired" or "locked" would be premature.
            raise InProgress(
                "this enrollment is being confirmed; retry shortly", code="enrollment_in_progress"
            )
        if stored.expires_at <= now:
            raise Gone("the enrollment expired; start again", code="enrollment_expired")
        if stored.attempts >= self._settings.enrollment_max_attempts:
            raise Gone("too many wrong SMS codes; start again", code="enrollment_locked")
        raise InProgress("this enrollment is being confirmed; retry shortly", code="enrollment_in_progress")

    def _replay(self, stored: Enrollment, now: datetime, sms_code: str, pin: str) -> IssuedCertificate:
        """A retried confirm gets the certificate the first one issued, never a second one;
        a "retry" carrying another code or PIN is a conflict, not a new issuance."""
        if now > stored.expires_at + REPLAY_WINDOW:
            raise Gone("the enrollment is closed", code="enrollment_closed")
        try:
            # Counted before any KMS call, right or wrong PIN alike.
            self._store.count_replay(stored.enrollment_id, stored.institution_id, MAX_REPLAYS)
        except ConditionFailed:
            raise Gone("the enrollment is closed", code="enrollment_closed") from None
        secret = self._open_challenge(stored)
        digest = self._pin_verifier_digest(stored.person_index, pin)
        same_code = hmac.compare_digest(secret["code"].encode(), sms_code.encode())
        if not (same_code and hmac.compare_digest(digest, stored.pin_verifier_digest or "")):
            raise Conflict(
                "the enrollment was already confirmed with another request", code="enrollment_confirmed"
            )
        credential = self._store.get_credential(stored.confirmed_account_id or "", stored.credential_id or "")
        if credential is None or credential.status != CredentialStatus.ACTIVE:
            raise Conflict(
                "the certificate issued for this enrollment was replaced", code="enrollment_superseded"
            )
        return IssuedCertificate(credential, self._certificate_authority().chain_pem())

    def _open_challenge(self, enrollment: Enrollment) -> dict[str, str]:
        plaintext = self._kms.decrypt(
            self._settings.key_wrap_key_id,
            enrollment.challenge_ciphertext,
            challenge_context(enrollment.enrollment_id, enrollment.institution_id),
        )
        return json.loads(plaintext)

    def _pin_verifier(self, person_index: str, pin: str) -> str:
        return make_pin_verifier(self._kms, self._settings.hmac_key_id, person_index, pin)

    def _pin_verifier_digest(self, person_index: str, pin: str) -> str:
        return hashlib.sha256(self._pin_verifier(person_index, pin).encode()).hexdigest()

    def _release_quietly(self, enrollment_id: str, lease_until: datetime, refund_attempt: bool) -> None:
        # The lease expires by itself; the error that got us here is the one to report.
        with contextlib.suppress(Exception):
            self._store.release_enrollment(enrollment_id, lease_until, refund_attempt=refund_attempt)

    def _issue(
        self, enrollment: Enrollment, lease_until: datetime, holder_name: str, pin: str, now: datetime
    ) -> IssuedCertificate:
        account_id = enrollment.account_id or self._store.find_account_id(enrollment.person_index)
        previous = self._store.get_account(account_id) if account_id else None
        pin_verifier = self._pin_verifier(enrollment.person_index, pin)
        if previous is None:
            account = Account(
                account_id=new_id("acct"),
                person_index=enrollment.person_index,
                holder_suffix=new_holder_suffix(),
                identity_ciphertext=enrollment.identity_ciphertext,
                pin_verifier=pin_verifier,
                created_at=now,
            )
        else:
            # Reissue: a new PIN, and the failure count starts again.
            account = replace(previous, pin_verifier=pin_verifier, pin_attempts=0, pin_cleared=0)

        ca = self._certificate_authority()
        credential = mint_credential(
            store=self._store,
            kms=self._kms,
            settings=self._settings,
            ca=ca,
            holder=Holder(account.account_id, holder_name, account.holder_suffix),
            algorithm=KeyAlgorithm(enrollment.key_algorithm),
            issued_by=enrollment.institution_id,
            auto_renew=enrollment.auto_renew,
            now=now,
        )
        self._commit(enrollment, lease_until, credential, account, previous, pin_verifier, now)
        self._metrics.count(CERTIFICATES_ISSUED, KeyAlgorithm=credential.key_algorithm, Channel="enrollment")
        return IssuedCertificate(credential, ca.chain_pem())

    def _commit(
        self,
        enrollment: Enrollment,
        lease_until: datetime,
        credential: Credential,
        account: Account,
        previous: Account | None,
        pin_verifier: str,
        now: datetime,
    ) -> None:
        digest = hashlib.sha256(pin_verifier.encode()).hexdigest()
        for _ in range(_COMMIT_ATTEMPTS):
            active = replace(
                account, active_credential_id=credential.credential_id, active_serial=credential.serial_number
            )
            try:
                self._store.commit_issuance(
                    IssuanceCommit(enrollment, lease_until, credential, active, previous, digest, now)
                )
                return
            except ConditionFailed as e:
                if "enrollment" in e.reasons:
                    # Our lease ran out and another confirm took over; it answers the client.
                    raise InProgress(
                        "this enrollment is being confirmed; retry shortly", code="enrollment_in_progress"
                    ) from None
                if "account" not in e.reasons:
                    # Not a race this issuance can settle by re-reading the account.
                    raise Conflict(
                        "the issuance could not be recorded; retry", code="issuance_conflict"
                    ) from None
                if previous is None:
                    # Another enrollment created this person's account meanwhile; our key is wrapped
                    # for an account id that now cannot exist. The signed certificate stays a
                    # pre-signing record (revoked by the reconciler); the client retries.
                    raise InProgress(
                        "another issuance for this customer is in progress; retry", code="issuance_conflict"
                    ) from None
                # Another issuance replaced the active certificate: supersede that one instead.
                current = self._store.get_account(account.account_id)
                if current is None:
                    raise Conflict(
                        "the account changed during issuance; retry", code="issuance_conflict"
                    ) from None
                previous, account = (
                    current,
                    replace(current, pin_verifier=pin_verifier, pin_attempts=0, pin_cleared=0),
                )
        raise Conflict("the account kept changing during issuance; retry", code="issuance_conflict")


def _identity_json(identity: Identity) -> bytes:
    return json.dumps(
        {"name": identity.name, "phone": identity.phone, "birth_date": identity.birth_date}
    ).encode()


def challenge_context(enrollment_id: str, institution_id: str) -> dict[str, str]:
    return {"purpose": "enrollment", "enrollment_id": enrollment_id, "institution_id": institution_id}
