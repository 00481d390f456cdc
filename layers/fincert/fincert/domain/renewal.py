"""Daily auto-renewal (and expiry notices for certificates that did not opt in).

A certificate with auto_renew is renewed from the first day of its renewal window
(fincert.domain.schedule: 30 KST days before its notAfter day) until it expires: a new key pair of
the same algorithm and a new certificate for the same subject (the holder's name is read from the
old certificate, the suffix from the account), minted like an issuance (pre-signing record, sign,
commit: fincert.domain.minting). The account keeps its PIN verifier. One transaction stores the
new credential, makes it the account's active one and supersedes the old one (revoked, reason
superseded), on condition that the old one is still active: a reissue that won the race leaves
the renewal's certificate unstored, and it is revoked at once. The customer is told by SMS.

An expired certificate is not renewed (the customer reissues at a bank); a revoked one is not
either. A suspended one stays due and is renewed if restored before it expires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Protocol

from fincert.clock import kst_date
from fincert.crypto.keys import KeyAlgorithm
from fincert.domain.account_records import Account, Credential, CredentialStatus, RevocationReason
from fincert.domain.ca import CertificateAuthority
from fincert.domain.job_records import DueEntry, RenewalCommit
from fincert.domain.jobs import PlanTask
from fincert.domain.metrics import CERTIFICATES_ISSUED, ISSUANCE_REFUSED, NO_METRICS
from fincert.domain.minting import Holder, holder_name_of, mint_credential, require_issuable
from fincert.domain.notices import customer_phone
from fincert.domain.schedule import is_expired
from fincert.domain.stores import AccountReads, DueEntries, Issuance, PreSigningRecords, Renewals
from fincert.errors import ConditionFailed, Conflict, FincertError, IssuingCaExpiring
from fincert.ports import Clock, KeyManagement, Metrics, SmsSender
from fincert.settings import Settings


class RenewalStorage(Renewals, DueEntries, AccountReads, PreSigningRecords, Issuance, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


RENEW = "renew"
EXPIRY_NOTICE = "expiry_notice"


def _kst(day: date) -> str:
    return day.strftime("%Y-%m-%d")


class RenewalJob:
    def __init__(
        self,
        *,
        store: RenewalStorage,
        kms: KeyManagement,
        sms: SmsSender,
        clock: Clock,
        settings: Settings,
        certificate_authority: Callable[[], CertificateAuthority],
        metrics: Metrics = NO_METRICS,
    ):
        self._metrics = metrics
        self._store = store
        self._kms = kms
        self._sms = sms
        self._clock = clock
        self._settings = settings
        self._certificate_authority = certificate_authority

    def tasks(self) -> list[PlanTask]:
        # Every entry whose window started today or earlier: a missed day is caught up.
        before = (kst_date(self._clock.now()) + timedelta(days=1)).isoformat()
        return [PlanTask(RENEW, p, before) for p in self._store.due_partitions("renew")] + [
            PlanTask(EXPIRY_NOTICE, p, before) for p in self._store.due_partitions("expiry")
        ]

    def handlers(self) -> Mapping[str, Callable[[DueEntry], str]]:
        return {RENEW: self.renew, EXPIRY_NOTICE: self.notify_expiry}

    def _read(self, entry: DueEntry) -> tuple[str | None, Credential | None, Account | None]:
        """The credential and account behind an entry, or an outcome saying why there is
        nothing (left) to do, having taken the entry out of `due` where it never will be."""
        day, account_id, credential_id = entry.due_sk.split("#")
        now = self._clock.now()
        if date.fromisoformat(day) > kst_date(now):
            return "not_due", None, None
        credential = self._store.get_credential(account_id, credential_id)
        if credential is None:
            return "gone", None, None
        if credential.status == CredentialStatus.REVOKED:
            self._store.clear_due(entry)
            return "revoked", None, None
        if is_expired(credential.not_after, now):
            self._store.clear_due(entry)
            return "expired", None, None
        if credential.status != CredentialStatus.ACTIVE:
            return "inactive", None, None  # e.g. suspended: due again tomorrow, until it expires
        account = self._store.get_account(account_id)
        if account is None or account.active_credential_id != credential_id:
            self._store.clear_due(entry)
            return "superseded", None, None
        return None, credential, account

    def renew(self, entry: DueEntry) -> str:
        outcome, old, account = self._read(entry)
        if old is None or account is None:
            return outcome or "gone"
        now = self._clock.now()
        ca = self._certificate_authority()
        try:
            require_issuable(ca, now)
        except IssuingCaExpiring:
            # Not a fault a redelivery fixes: the entry stays due (renewed on the first run after
            # the CA's rollover, or left to expire), the operator is told by IssuanceRefused.
            self._metrics.count(ISSUANCE_REFUSED, Channel="renewal")
            return "issuing_ca_expiring"
        # Decrypted before minting: without a number to tell, renewing would go unnoticed.
        phone = customer_phone(self._kms, self._settings, account.identity_ciphertext, account.person_index)
        new = mint_credential(
            store=self._store,
            kms=self._kms,
            settings=self._settings,
            ca=ca,
            holder=Holder(
                account.account_id,
                holder_name_of(old.certificate_der, account.holder_suffix),
                account.holder_suffix,
            ),
            algorithm=KeyAlgorithm(old.key_algorithm),
            issued_by=old.issued_by,
            auto_renew=True,
            now=now,
        )
        try:
            self._store.commit_renewal(RenewalCommit(old, new, now))
        except ConditionFailed as e:
            if not {"account", "old_credential"} & set(e.reasons):
                raise Conflict("the renewal could not be recorded", code="renewal_conflict") from None
            # A reissue or a status change won: our certificate was never stored and never will be.
            self._store.revoke_unstored(new.serial_number, now, RevocationReason.CESSATION_OF_OPERATION)
            if "account" in e.reasons:
                # No longer the account's certificate (reissued, revoked): never due again. A
                # suspension alone keeps it due, to be renewed once restored.
                self._store.clear_due(entry)
            return "lost_race"
        self._metrics.count(CERTIFICATES_ISSUED, KeyAlgorithm=new.key_algorithm, Channel="renewal")
        valid_until = _kst(kst_date(new.not_after))
        try:
            self._sms.send_sms(
                phone,
                f"[fincert] 금융인증서가 자동 갱신되었습니다. 새 유효기간: {valid_until}까지. 비밀번호는 그대로입니다.",
            )
        except FincertError:
            # The renewal stands; failing the message would only redeliver it to find it done.
            return "renewed_not_notified"
        return "renewed"

    def notify_expiry(self, entry: DueEntry) -> str:
        outcome, credential, account = self._read(entry)
        if credential is None or account is None:
            return outcome or "gone"
        phone = customer_phone(self._kms, self._settings, account.identity_ciphertext, account.person_index)
        # Claimed before sending: two workers holding the same entry send one notice.
        if not self._store.take_expiry_notice(entry, self._clock.now()):
            return "already_notified"
        try:
            self._sms.send_sms(
                phone,
                f"[fincert] 금융인증서가 {_kst(kst_date(credential.not_after))}에 만료됩니다. "
                "거래 금융회사에서 재발급하세요.",
            )
        except Exception:
            self._store.return_expiry_notice(entry)  # due again: the next run tries again
            raise
        return "notified"
