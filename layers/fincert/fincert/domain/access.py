"""Who may act for a customer: session tokens (what the authorizer checks) and the PIN.

A session token names its account and session, so checking one is a single GetItem:
`fcs.<account id>.<session id>.<secret>`; only the secret's SHA-256 is stored (the secret is 256
random bits, so a fast hash suffices).

Every PIN attempt first reserves a slot with a conditional increment on the account, then asks
KMS to verify the PIN's MAC: parallel wrong PINs can never exceed the limit or lose a count, and a
correct PIN forgives only the attempts up to its own slot (DynamoStore.pin_accepted).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fincert.domain.model import HistoryEntry, HistoryEvent, PinSlot, Principal, Session
from fincert.domain.pin import MAX_PIN_FAILURES, pin_matches
from fincert.domain.tokens import new_id, secret_hash
from fincert.errors import Forbidden, InvalidRequest, Locked, NotFound, PinSlotRefused, Unauthenticated
from fincert.ports import Clock, KeyManagement, Store

SESSION_PREFIX = "fcs"
_SESSION_TOKEN = re.compile(r"fcs\.(acct_[A-Za-z0-9_-]{22})\.(ses_[A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")
_PIN = re.compile(r"[0-9]{6}")


def history(
    event: HistoryEvent, at: datetime, institution_id: str, credential_id: str | None = None, **detail: str
):
    return HistoryEntry(
        event=event,
        at=at,
        institution_id=institution_id,
        credential_id=credential_id,
        detail=detail or None,
        entry_id=secrets.token_hex(4),
    )


@dataclass(frozen=True)
class OpenedSession:
    session: Session
    token: str


def open_session(
    account_id: str,
    institution_id: str,
    now: datetime,
    lifetime: timedelta,
    *,
    via: str,
    allowed_origins: tuple[str, ...] = (),
    device_id: str | None = None,
) -> OpenedSession:
    """A new session and its token; the caller stores the session (the token is shown once)."""
    session_id = new_id("ses")
    secret = secrets.token_urlsafe(32)
    session = Session(
        session_id=session_id,
        account_id=account_id,
        institution_id=institution_id,
        secret_hash=secret_hash(secret),
        created_at=now,
        expires_at=now + lifetime,
        via=via,
        allowed_origins=allowed_origins,
        device_id=device_id,
    )
    return OpenedSession(session, f"{SESSION_PREFIX}.{account_id}.{session_id}.{secret}")


def is_session_token(token: str) -> bool:
    return token.startswith(SESSION_PREFIX + ".")


def authenticate_session(store: Store, clock: Clock, token: str) -> Principal:
    """The customer principal a session token stands for; Unauthenticated for anything else
    (malformed, unknown, revoked, expired), all alike."""
    match = _SESSION_TOKEN.fullmatch(token)
    if not match:
        raise Unauthenticated()
    account_id, session_id, secret = match.groups()
    session = store.get_session(account_id, session_id)
    if session is None or not hmac.compare_digest(session.secret_hash, secret_hash(secret)):
        raise Unauthenticated()
    if session.expires_at <= clock.now():
        raise Unauthenticated("the session expired; connect again", code="session_expired")
    return Principal(
        institution_id=session.institution_id,
        scopes=frozenset(),
        account_id=account_id,
        session_id=session_id,
        allowed_origins=session.allowed_origins,
    )


def require_customer(principal: Principal) -> str:
    """The account a customer-scoped call acts on: only a customer session may make one."""
    if principal.account_id is None:
        raise Forbidden("this call takes a customer session token", code="customer_session_required")
    return principal.account_id


def require_institution(principal: Principal) -> None:
    if principal.is_customer:
        raise Forbidden("this call takes the institution's API key", code="institution_key_required")


class PinChecker:
    def __init__(self, *, store: Store, kms: KeyManagement, hmac_key_id: str, clock: Clock):
        self._store = store
        self._kms = kms
        self._hmac_key_id = hmac_key_id
        self._clock = clock

    def check(
        self,
        account_id: str,
        pin: str,
        institution_id: str,
        *,
        credential_id: str | None = None,
        registered_only: bool = True,
        to_sign: bool = False,
    ) -> PinSlot:
        """Reserves an attempt and verifies the PIN. Raises before any write for a malformed PIN,
        a credential that is not the account's active one, or an institution the certificate is
        not registered with, or (to_sign) no certificate able to sign; Locked once MAX_PIN_FAILURES wrong PINs are counted; a wrong PIN
        keeps its slot (a failure) and is written to the history."""
        if not _PIN.fullmatch(pin):
            raise InvalidRequest("the PIN is 6 digits", code="pin_format")
        try:
            slot = self._store.reserve_pin_attempt(
                account_id,
                credential_id=credential_id,
                institution_id=institution_id if registered_only else None,
                to_sign=to_sign,
            )
        except PinSlotRefused as e:
            raise self._refusal(e.account, credential_id, institution_id, registered_only, to_sign) from None
        account = slot.account
        if pin_matches(self._kms, self._hmac_key_id, account.person_index, pin, account.pin_verifier):
            return slot
        remaining = max(MAX_PIN_FAILURES - account.pin_failures, 0)
        if remaining == 0:
            # Our count included attempts still in flight; a correct one among them may have
            # forgiven ours meanwhile. Say "locked" only if the account is locked now.
            current = self._store.get_account(account_id)
            remaining = max(MAX_PIN_FAILURES - current.pin_failures, 0) if current else 0
        self._store.put_history(
            account_id,
            history(
                HistoryEvent.AUTHORIZATION_FAILED,
                self._clock.now(),
                institution_id,
                credential_id,
                reason="pin_invalid",
            ),
        )
        if remaining == 0:
            raise Locked("wrong PIN; the PIN is now locked, reset it through your bank")
        raise InvalidRequest("the PIN is wrong", code="pin_invalid", remaining_attempts=remaining)

    @staticmethod
    def _refusal(
        account, credential_id: str | None, institution_id: str, registered_only: bool, to_sign: bool
    ) -> Exception:
        if account is None:
            return NotFound("no such account", code="account_not_found")
        if credential_id is not None and account.active_credential_id != credential_id:
            return NotFound("no such credential", code="credential_not_found")
        if registered_only and institution_id not in account.institutions:
            # Before the certificate's state: an institution it is not registered with learns
            # nothing of it.
            return Forbidden(
                "the certificate is not registered with this institution", code="institution_not_registered"
            )
        if to_sign and account.active_credential_id is None:
            return NotFound("this customer has no financial certificate", code="certificate_not_found")
        if to_sign and account.credential_suspended:
            return Forbidden("the certificate is suspended", code="credential_not_active")
        return Locked()
