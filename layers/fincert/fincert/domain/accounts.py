"""What a customer does with their cloud through a bank: connect (name + phone + birth date + SMS
code, or a registered device), register the certificate with another institution (타기관 등록),
manage devices, change or reset the PIN, read their own usage history.

No account enumeration: starting a connection for an identity that has no account does the same
AWS calls and sends the same SMS as for one that has; only the person holding the phone, by
typing the right code, learns that there is no certificate.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from fincert.clock import kst_date
from fincert.domain.access import (
    OpenedSession,
    open_session,
    require_customer,
    require_institution,
    require_secret_entry_allowed,
)
from fincert.domain.account_records import Account
from fincert.domain.content_macs import ContentMacs
from fincert.domain.history_records import HistoryEntry, HistoryEvent, history
from fincert.domain.identity import Identity, identity_context
from fincert.domain.institution_records import Principal, Scope
from fincert.domain.institutions import require_scope
from fincert.domain.metrics import AUDIT_WRITE_FAILURES, NO_METRICS, count_sms_refused
from fincert.domain.pin import check_new_pin_against_identity, check_pin_shape, make_pin_verifier
from fincert.domain.pin_attempts import PinChecker
from fincert.domain.pin_unlocks import RegisterInstitution, ReplacePin
from fincert.domain.session_records import Verification, VerificationPurpose
from fincert.domain.sms_limits import sms_limits
from fincert.domain.stores import AccountReads, History, PinSlots, Sessions, Verifications
from fincert.domain.tokens import new_id
from fincert.errors import (
    ConditionFailed,
    Conflict,
    Forbidden,
    Gone,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    VerificationUnavailable,
)
from fincert.ports import Clock, KeyManagement, Metrics, SmsSender
from fincert.settings import Settings

# The standard logger Powertools' Logger(service="fincert") writes through (no identifiers or
# personal data in what is logged here).
_log = logging.getLogger("fincert")


class AccountStorage(AccountReads, Verifications, Sessions, PinSlots, History, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


_SMS_TEXT = {
    VerificationPurpose.CONNECT: "[fincert] 금융인증서 클라우드 연결 인증번호 [{code}]. 타인에게 알려주지 마세요.",
    VerificationPurpose.PIN_RESET: "[fincert] 금융인증서 PIN 재설정 인증번호 [{code}]. 타인에게 알려주지 마세요.",
    VerificationPurpose.STATUS_CHANGE: "[fincert] 금융인증서 효력정지/회복/폐기 인증번호 [{code}]. 타인에게 알려주지 마세요.",
}


@dataclass(frozen=True)
class VerificationStarted:
    verification_id: str
    expires_at: datetime
    attempts_allowed: int


@dataclass(frozen=True)
class Connected:
    opened: OpenedSession
    institution_registered: bool


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    next_cursor: str | None


def verification_context(verification_id: str, institution_id: str) -> dict[str, str]:
    return {"purpose": "verification", "verification_id": verification_id, "institution_id": institution_id}


class AccountService:
    def __init__(
        self,
        *,
        store: AccountStorage,
        kms: KeyManagement,
        sms: SmsSender,
        clock: Clock,
        settings: Settings,
        pins: PinChecker,
        content_macs: ContentMacs,
        metrics: Metrics = NO_METRICS,
    ):
        self._content_macs = content_macs
        self._store = store
        self._kms = kms
        self._sms = sms
        self._clock = clock
        self._settings = settings
        self._pins = pins
        self._metrics = metrics

    # --- SMS re-verification: cloud connection, PIN reset, status changes ----------------------------------
    def start_verification(
        self, principal: Principal, purpose: VerificationPurpose, name: str, phone: str, birth_date: str
    ) -> VerificationStarted:
        require_institution(principal)
        require_scope(principal, Scope.CONNECT)
        now = self._clock.now()
        identity = Identity.normalise(name, phone, birth_date, today=now.date())
        person_index, phone_index = identity.blind_indexes(self._kms, self._settings.hmac_key_id)
        account_id = self._store.find_account_id(person_index)
        verification_id = new_id("ver")
        code = f"{secrets.randbelow(10**6):06d}"
        secret = json.dumps({"code": code, "birth_date": identity.birth_date, "phone": identity.phone})
        verification = Verification(
            verification_id=verification_id,
            purpose=purpose,
            institution_id=principal.institution_id,
            account_id=account_id,
            challenge_ciphertext=self._kms.encrypt(
                self._settings.key_wrap_key_id,
                secret.encode(),
                verification_context(verification_id, principal.institution_id),
            ),
            created_at=now,
            expires_at=now + timedelta(seconds=self._settings.enrollment_ttl_seconds),
        )
        limits = sms_limits(self._settings, now, phone_index, principal.institution_id)
        with count_sms_refused(self._metrics):
            self._store.create_verification(verification, limits)
        try:
            self._sms.send_sms(identity.phone, _SMS_TEXT[purpose].format(code=code))
        except Exception:
            self._store.cancel_verification(verification, limits)
            raise
        return VerificationStarted(
            verification_id, verification.expires_at, self._settings.enrollment_max_attempts
        )

    def prove_phone(
        self, principal: Principal, purpose: VerificationPurpose, verification_id: str, sms_code: str
    ) -> tuple[Verification, dict[str, str]]:
        """Counts one attempt and checks the code; returns the verification and its secret (the
        code, the phone and the birth date the institution gave)."""
        require_institution(principal)
        require_scope(principal, Scope.CONNECT)
        require_secret_entry_allowed(principal)
        now = self._clock.now()
        try:
            verification = self._store.claim_verification(
                verification_id,
                principal.institution_id,
                purpose,
                now,
                self._settings.enrollment_max_attempts,
            )
        except VerificationUnavailable as e:
            raise self._unclaimable(e.stored, principal, purpose, now) from None
        judged = False
        try:
            secret = json.loads(
                self._kms.decrypt(
                    self._settings.key_wrap_key_id,
                    verification.challenge_ciphertext,
                    verification_context(verification.verification_id, verification.institution_id),
                )
            )
            judged = True
        finally:
            if not judged:
                # An AWS fault is not the customer's wrong code: give the attempt back.
                with contextlib.suppress(Exception):
                    self._store.refund_verification_attempt(verification)
        if not hmac.compare_digest(secret["code"].encode(), sms_code.encode()):
            self._record_failure(verification, now)
            remaining = self._settings.enrollment_max_attempts - verification.attempts
            raise InvalidRequest(
                "the SMS code is wrong", code="sms_code_invalid", remaining_attempts=max(remaining, 0)
            )
        return verification, secret

    def _record_failure(self, verification: Verification, now: datetime) -> None:
        """An authentication failure is an audit record, kept with the account's others. A code
        sent for no account (the identity matched nobody) concerns no certificate: nothing to keep."""
        if verification.account_id is None:
            return
        event = (
            HistoryEvent.CONNECTION_FAILED
            if verification.purpose is VerificationPurpose.CONNECT
            else HistoryEvent.VERIFICATION_FAILED
        )
        entry = history(
            event,
            now,
            verification.institution_id,
            purpose=verification.purpose.value,
            reason="sms_code_invalid",
        )
        try:
            self._store.put_history(verification.account_id, entry)
        except ServiceUnavailable as e:
            # The attempt was counted (claimed) before the code could be judged, so the failure
            # cannot share its transaction. A fault here must not turn the customer's wrong code
            # into a 503: the answer stays 400, the lost entry is counted and its fault logged.
            self._metrics.count(AUDIT_WRITE_FAILURES)
            _log.warning(
                "audit entry not written",
                extra={"event": event.value, "fault": type(e.__cause__ or e).__name__},
            )

    def _unclaimable(
        self, stored: Verification | None, principal: Principal, purpose: VerificationPurpose, now: datetime
    ) -> Exception:
        if stored is None or stored.institution_id != principal.institution_id or stored.purpose != purpose:
            return NotFound("no such verification", code="verification_not_found")
        if stored.used:
            return Gone("the code was already used; start again", code="verification_used")
        if stored.expires_at <= now:
            return Gone("the verification expired; start again", code="verification_expired")
        return Gone("too many wrong SMS codes; start again", code="verification_locked")

    def confirm_connection(self, principal: Principal, verification_id: str, sms_code: str) -> Connected:
        verification, _ = self.prove_phone(principal, VerificationPurpose.CONNECT, verification_id, sms_code)
        if verification.account_id is None:
            raise NotFound("this customer has no financial certificate", code="certificate_not_found")
        account = self._store.get_account(verification.account_id)
        registered = account is not None and principal.institution_id in account.institutions
        now = self._clock.now()
        opened = open_session(
            verification.account_id,
            principal.institution_id,
            now,
            timedelta(seconds=self._settings.session_ttl_seconds),
            via="sms",
        )
        try:
            self._store.complete_connection(
                verification_id,
                opened.session,
                history(
                    HistoryEvent.CONNECTED,
                    now,
                    principal.institution_id,
                    certificate_not_after=account.certificate_not_after if account else None,
                    via="sms",
                ),
                kst_date(now),
            )
        except ConditionFailed as e:
            if "verification" in e.reasons:
                raise Gone("the code was already used; start again", code="verification_used") from None
            raise NotFound(
                "this customer has no financial certificate", code="certificate_not_found"
            ) from None
        return Connected(opened, registered)

    def registered_with(self, account_id: str, institution_id: str) -> bool:
        """Read before the session is committed: a fault after the commit would leave a session
        nobody received and a used code, and the customer would have to start again."""
        account = self._store.get_account(account_id)
        return account is not None and institution_id in account.institutions

    def end_session(self, principal: Principal) -> None:
        account_id = require_customer(principal)
        self._store.delete_session(account_id, principal.session_id or "")

    # --- PIN -----------------------------------------------------------------------------------
    def change_pin(self, principal: Principal, old_pin: str, new_pin: str) -> None:
        account_id = require_customer(principal)
        require_secret_entry_allowed(principal)
        check_pin_shape(new_pin)
        account = self._store.get_account(account_id)
        if account is None:
            raise NotFound("no such account", code="account_not_found")
        identity = self._identity(account.person_index, account.identity_ciphertext)
        check_new_pin_against_identity(
            new_pin, birth_date=identity["birth_date"], phone_e164=identity["phone"]
        )
        pin = self._pins.check(account_id, old_pin, principal.institution_id)
        now = self._clock.now()
        verifier = make_pin_verifier(self._kms, self._settings.hmac_key_id, account.person_index, new_pin)
        try:
            pin.accept(
                kst_date(now),
                history(HistoryEvent.PIN_CHANGED, now, principal.institution_id),
                ReplacePin(verifier),
            )
        except ConditionFailed:
            raise Conflict("the PIN changed meanwhile; try again", code="pin_changed") from None
        self._notify(
            identity["phone"], "[fincert] 금융인증서 PIN이 변경되었습니다. 본인이 아니면 은행에 알려주세요."
        )

    def confirm_pin_reset(
        self, principal: Principal, verification_id: str, sms_code: str, new_pin: str
    ) -> None:
        check_pin_shape(new_pin)
        verification, secret = self.prove_phone(
            principal, VerificationPurpose.PIN_RESET, verification_id, sms_code
        )
        check_new_pin_against_identity(new_pin, birth_date=secret["birth_date"], phone_e164=secret["phone"])
        account = self._store.get_account(verification.account_id) if verification.account_id else None
        if account is None or principal.institution_id not in account.institutions:
            # A bank learns nothing of customers not registered with it.
            raise NotFound("no certificate of this customer is registered here", code="certificate_not_found")
        now = self._clock.now()
        verifier = make_pin_verifier(self._kms, self._settings.hmac_key_id, account.person_index, new_pin)
        try:
            self._store.reset_pin(
                verification_id,
                account.account_id,
                verifier,
                kst_date(now),
                history(
                    HistoryEvent.PIN_RESET,
                    now,
                    principal.institution_id,
                    certificate_not_after=account.certificate_not_after,
                ),
            )
        except ConditionFailed as e:
            if "verification" in e.reasons:
                raise Gone("the code was already used; start again", code="verification_used") from None
            raise NotFound(
                "no certificate of this customer is registered here", code="certificate_not_found"
            ) from None
        self._notify(
            secret["phone"], "[fincert] 금융인증서 PIN이 재설정되었습니다. 본인이 아니면 은행에 알려주세요."
        )

    def _identity(self, person_index: str, ciphertext: bytes) -> dict[str, str]:
        return json.loads(
            self._kms.decrypt(self._settings.key_wrap_key_id, ciphertext, identity_context(person_index))
        )

    def notify_account(self, account_id: str, text: str) -> None:
        """Texts the account's holder (a change they should know of); a notice that cannot be
        sent, or an account gone meanwhile, does not turn the change into an error."""
        with contextlib.suppress(Exception):
            account = self._store.get_account(account_id)
            if account is not None:
                identity = self._identity(account.person_index, account.identity_ciphertext)
                self._sms.send_sms(identity["phone"], text)

    def _notify(self, phone: str, text: str) -> None:
        # The change is made; a notice that cannot be sent must not turn it into an error.
        with contextlib.suppress(Exception):
            self._sms.send_sms(phone, text)

    # --- other-institution registration (타기관 등록) ---------------------------------------------
    def register_institution(self, principal: Principal, pin: str) -> None:
        account_id = require_customer(principal)
        require_secret_entry_allowed(principal)
        correct = self._pins.check(account_id, pin, principal.institution_id, registered_only=False)
        if correct.account.active_credential_id is None:
            # The right PIN with nothing to register (the certificate was revoked): its slot is
            # given back, or five such tries would lock the PIN.
            correct.forgive()
            raise NotFound("this customer has no financial certificate", code="certificate_not_found")
        now = self._clock.now()
        try:
            correct.accept(
                kst_date(now),
                history(HistoryEvent.INSTITUTION_REGISTERED, now, principal.institution_id),
                RegisterInstitution(principal.institution_id),
            )
        except ConditionFailed:
            raise Conflict("the PIN changed meanwhile; try again", code="pin_changed") from None

    def require_registered(self, principal: Principal) -> str:
        """The account id of a customer session whose institution the certificate is registered with."""
        return self.registered_account(principal).account_id

    def registered_account(self, principal: Principal) -> Account:
        """The account of a customer session, as read, if the certificate is registered with the
        session's institution; refused before anything about the certificate is told."""
        account = self._store.get_account(require_customer(principal))
        if account is None:
            raise NotFound("no such account", code="account_not_found")
        if principal.institution_id not in account.institutions:
            raise Forbidden(
                "the certificate is not registered with this institution", code="institution_not_registered"
            )
        return account

    # --- history ---------------------------------------------------------------------------------
    def list_history(
        self, principal: Principal, limit: int, cursor: str | None, content_sha256: bytes | None = None
    ) -> HistoryPage:
        """The customer's history. A bank (with the customer's session) sees what happened at that
        bank only; the customer's full history, at every bank, is for the customer, in the
        service's window. The cursor is opaque to clients and only ever names this account's
        history. A bank's page may come back short of `limit`: follow next_cursor.
        With `content_sha256`, only the signatures of that content: the history keeps contents as
        keyed values (fincert.domain.content_macs), which the service computes for the caller."""
        account_id = self.require_registered(principal)
        before = None
        if cursor:
            try:
                before = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
            except (ValueError, UnicodeDecodeError):
                raise InvalidRequest(
                    "the cursor is not one this service returned", code="cursor_invalid"
                ) from None
            if not before.startswith("HIST#"):
                raise InvalidRequest("the cursor is not one this service returned", code="cursor_invalid")
        only_here = None if principal.window_ticket_id is not None else principal.institution_id
        matching = None
        if content_sha256 is not None:
            # The keyed value, and the plain digest entries written before keyed values were.
            matching = (self._content_macs.of(content_sha256), content_sha256.hex())
        entries, last = self._store.list_history(account_id, limit, before, only_here, matching)
        next_cursor = base64.urlsafe_b64encode(last.encode()).decode().rstrip("=") if last else None
        return HistoryPage(entries, next_cursor)
