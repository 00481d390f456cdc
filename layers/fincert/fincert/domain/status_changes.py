"""Suspend (효력정지), restore (효력회복) and revoke a financial certificate, asked for by its
customer through an institution the certificate is registered with.

Two ways to ask (docs/design.md#trust-model):
- the customer's session + PIN: suspend or revoke. Not restore: a certificate is suspended because
  its phone, PIN or device is no longer trusted, so lifting that takes more than those.
- the institution re-verifies the customer (name + phone + birth date, then the SMS code; its API
  key): suspend, restore or revoke. This is the way for a lost phone or a locked or forgotten PIN,
  and the only way to restore.

One transaction changes the credential, its SERIAL record (what OCSP and the CRLs answer from,
through `serial_status_update`), the account's mirror of the state (a suspended certificate
reserves no PIN attempt for signing) and the customer's history, so a status change shows in the
next OCSP answer and the next signature request alike. A revoked certificate is no longer the
account's active one: the customer reissues.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Protocol

from fincert.clock import kst_date
from fincert.domain.access import require_customer, require_secret_entry_allowed
from fincert.domain.account_records import Account, Credential
from fincert.domain.accounts import AccountService
from fincert.domain.history_records import HistoryEntry, HistoryEvent, history
from fincert.domain.institution_records import Principal
from fincert.domain.metrics import NO_METRICS, STATUS_CHANGES
from fincert.domain.notices import customer_phone
from fincert.domain.pin_attempts import PinChecker
from fincert.domain.pin_unlocks import ApplyStatusChange
from fincert.domain.schedule import is_expired
from fincert.domain.session_records import VerificationPurpose
from fincert.domain.status_records import (
    STATUS_TRANSITIONS,
    SUBSCRIBER_REVOCATION_REASONS,
    StatusAction,
    StatusChange,
)
from fincert.domain.stores import AccountReads, VerifiedStatusChanges
from fincert.errors import ConditionFailed, Conflict, Forbidden, Gone, InvalidRequest, NotFound
from fincert.ports import Clock, KeyManagement, Metrics, SmsSender
from fincert.settings import Settings


class StatusChangeStorage(AccountReads, VerifiedStatusChanges, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


_NOTICE = {
    StatusAction.SUSPEND: "[fincert] 금융인증서 효력이 정지되었습니다. 본인이 아니면 은행에 알려주세요.",
    StatusAction.RESTORE: "[fincert] 금융인증서 효력이 회복되었습니다. 본인이 아니면 은행에 알려주세요.",
    StatusAction.REVOKE: "[fincert] 금융인증서가 폐기되었습니다. 본인이 아니면 은행에 알려주세요.",
}


def revocation_reason(action: StatusAction, reason: str | None) -> str | None:
    """The RFC 5280 reason the change records: certificateHold for a suspension, the subscriber's
    reason (default unspecified) for a revocation, none for a restore."""
    if action is StatusAction.REVOKE:
        reason = reason or "unspecified"
        if reason not in SUBSCRIBER_REVOCATION_REASONS:
            raise InvalidRequest(
                f"reason must be one of {', '.join(sorted(SUBSCRIBER_REVOCATION_REASONS))}",
                code="reason_invalid",
            )
        return reason
    if reason is not None:
        raise InvalidRequest(f"a {action.value} takes no reason", code="reason_not_applicable")
    return "certificateHold" if action is StatusAction.SUSPEND else None


def _lost_race() -> Exception:
    # Another status change, a reissue or a PIN change committed between our read and our write.
    return Conflict("the certificate or the PIN changed meanwhile; try again", code="status_changed")


class CertificateStatusService:
    def __init__(
        self,
        *,
        store: StatusChangeStorage,
        kms: KeyManagement,
        sms: SmsSender,
        clock: Clock,
        settings: Settings,
        pins: PinChecker,
        accounts: AccountService,
        metrics: Metrics = NO_METRICS,
    ):
        self._metrics = metrics
        self._store = store
        self._kms = kms
        self._sms = sms
        self._clock = clock
        self._settings = settings
        self._pins = pins
        self._accounts = accounts

    def current(self, principal: Principal) -> Credential:
        """The customer's certificate as the calling institution may see it."""
        return self._active_credential(self._accounts.registered_account(principal))

    def change_with_pin(
        self, principal: Principal, action: StatusAction, reason: str | None, pin: str
    ) -> Credential:
        account_id = require_customer(principal)
        require_secret_entry_allowed(principal)
        if action is StatusAction.RESTORE:
            raise Forbidden(
                "restoring a suspended certificate takes the institution's re-verification of the customer",
                code="reverification_required",
            )
        recorded_reason = revocation_reason(action, reason)
        # Judged before the PIN: an impossible change costs the customer no attempt. What changes
        # between this read and the write (a reissue, another change) fails the transaction's
        # conditions, which name the credential and the state read here.
        credential = self._changeable(
            self._active_credential(self._accounts.registered_account(principal)), action
        )
        correct = self._pins.check(account_id, pin, principal.institution_id)
        change = self._change(credential, action, recorded_reason, principal.institution_id)
        entry = self._history(change, credential, via="pin")
        try:
            correct.accept(kst_date(change.at), entry, ApplyStatusChange(change))
        except ConditionFailed:
            correct.forgive()  # the PIN was right: losing the race must not count it as wrong
            raise _lost_race() from None
        self._metrics.count(STATUS_CHANGES, Action=action.value)
        self._notify_account(correct.account, action)
        return replace(credential, status=STATUS_TRANSITIONS[action].credential_to)

    def change_with_verification(
        self,
        principal: Principal,
        verification_id: str,
        sms_code: str,
        action: StatusAction,
        reason: str | None,
    ) -> Credential:
        recorded_reason = revocation_reason(action, reason)
        verification, secret = self._accounts.prove_phone(
            principal, VerificationPurpose.STATUS_CHANGE, verification_id, sms_code
        )
        account = self._store.get_account(verification.account_id) if verification.account_id else None
        if account is None or principal.institution_id not in account.institutions:
            # A bank learns nothing of customers not registered with it.
            raise NotFound("no certificate of this customer is registered here", code="certificate_not_found")
        credential = self._changeable(self._active_credential(account), action)
        change = self._change(credential, action, recorded_reason, principal.institution_id)
        try:
            self._store.change_status_verified(
                verification_id,
                change,
                kst_date(change.at),
                self._history(change, credential, via="reverification"),
            )
        except ConditionFailed as e:
            if "verification" in e.reasons:
                raise Gone("the code was already used; start again", code="verification_used") from None
            raise _lost_race() from None
        self._metrics.count(STATUS_CHANGES, Action=action.value)
        self._notify(secret["phone"], action)
        return replace(credential, status=STATUS_TRANSITIONS[action].credential_to)

    # --- shared ----------------------------------------------------------------------------------
    def _active_credential(self, account: Account | None) -> Credential:
        credential = None
        if account is not None and account.active_credential_id is not None:
            credential = self._store.get_credential(account.account_id, account.active_credential_id)
        if credential is None:
            raise NotFound("this customer has no financial certificate", code="certificate_not_found")
        return credential

    def _changeable(self, credential: Credential, action: StatusAction) -> Credential:
        if is_expired(credential.not_after, self._clock.now()):
            raise Gone("the certificate expired; reissue it", code="credential_expired")
        if credential.status not in STATUS_TRANSITIONS[action].credential_from:
            if action is StatusAction.RESTORE:
                raise Conflict(
                    "only a suspended certificate can be restored", code="credential_not_suspended"
                )
            raise Conflict(f"the certificate is {credential.status.value}", code="credential_not_active")
        return credential

    def _change(
        self, credential: Credential, action: StatusAction, reason: str | None, institution_id: str
    ) -> StatusChange:
        return StatusChange(
            account_id=credential.account_id,
            credential_id=credential.credential_id,
            serial_number=credential.serial_number,
            action=action,
            reason=reason,
            at=self._clock.now(),
            institution_id=institution_id,
        )

    @staticmethod
    def _history(change: StatusChange, credential: Credential, *, via: str) -> HistoryEntry:
        detail = {"action": change.action.value, "serial": format(change.serial_number, "x"), "via": via}
        if change.reason:
            detail["reason"] = change.reason
        return history(
            HistoryEvent.STATUS_CHANGED,
            change.at,
            change.institution_id,
            change.credential_id,
            certificate_not_after=credential.not_after,
            **detail,
        )

    def _notify_account(self, account: Account, action: StatusAction) -> None:
        with contextlib.suppress(Exception):
            phone = customer_phone(
                self._kms, self._settings, account.identity_ciphertext, account.person_index
            )
            self._notify(phone, action)

    def _notify(self, phone: str, action: StatusAction) -> None:
        # The change is made and audited; a notice that cannot be sent must not undo it.
        with contextlib.suppress(Exception):
            self._sms.send_sms(phone, _NOTICE[action])
