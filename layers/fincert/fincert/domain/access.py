"""Who may act for a customer: session tokens (what the authorizer checks).

A session token names its institution, account and session, so checking one is a single
BatchGetItem of the session and the institution (a deactivated institution's sessions stop at
once): `fcs.<institution id>.<account id>.<session id>.<secret>`; only the secret's SHA-256 is
stored (the secret is 256 random bits, so a fast hash suffices).

The PIN itself is checked by fincert.domain.pin_attempts.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from hmac import compare_digest

from fincert.domain.institution_records import Principal
from fincert.domain.institutions import INSTITUTION_ID
from fincert.domain.session_records import Session
from fincert.domain.stores import Sessions
from fincert.domain.tokens import new_id, secret_hash
from fincert.errors import Forbidden, Unauthenticated
from fincert.ports import Clock

SESSION_PREFIX = "fcs"
_SESSION_TOKEN = re.compile(
    rf"fcs\.({INSTITUTION_ID.pattern})\.(acct_[A-Za-z0-9_-]{{22}})\.(ses_[A-Za-z0-9_-]{{22}})\.([A-Za-z0-9_-]{{43}})"
)
_PIN = re.compile(r"[0-9]{6}")


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
    device_id: str | None = None,
) -> OpenedSession:
    """A new session and its token; the caller stores the session (the token is shown once).
    The institution's origins (CORS) and hosted-only setting are read with the session at each
    request (authenticate_session), not copied into it."""
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
        device_id=device_id,
    )
    return OpenedSession(session, f"{SESSION_PREFIX}.{institution_id}.{account_id}.{session_id}.{secret}")


def is_session_token(token: str) -> bool:
    return token.startswith(SESSION_PREFIX + ".")


def authenticate_session(store: Sessions, clock: Clock, token: str) -> Principal:
    """The customer principal a session token stands for; Unauthenticated for anything else
    (malformed, unknown, revoked, expired, or its institution deactivated), all alike. The
    institution's browser origins and hosted-only setting are read as they are now."""
    match = _SESSION_TOKEN.fullmatch(token)
    if not match:
        raise Unauthenticated()
    institution_id, account_id, session_id, secret = match.groups()
    session, institution = store.get_session_and_institution(institution_id, account_id, session_id)
    if (
        session is None
        or session.institution_id != institution_id
        or not secret_matches(session.secret_hash, secret)
        or institution is None
        or not institution.active
    ):
        raise Unauthenticated()
    if session.expires_at <= clock.now():
        raise Unauthenticated("the session expired; connect again", code="session_expired")
    return Principal(
        institution_id=session.institution_id,
        scopes=frozenset(),
        account_id=account_id,
        session_id=session_id,
        allowed_origins=institution.allowed_origins,
        hosted_only=institution.hosted_only,
    )


def require_customer(principal: Principal) -> str:
    """The account a customer-scoped call acts on: only a customer session may make one."""
    if principal.account_id is None:
        raise Forbidden("this call takes a customer session token", code="customer_session_required")
    return principal.account_id


def require_institution(principal: Principal) -> None:
    if principal.is_customer:
        raise Forbidden("this call takes the institution's API key", code="institution_key_required")


def require_not_window(principal: Principal) -> None:
    if principal.window_ticket_id is not None:
        raise Forbidden(
            "a window credential acts only on the window's routes", code="window_credential_not_accepted"
        )


def require_secret_entry_allowed(principal: Principal) -> None:
    """The hosted-only rule: an institution that chose it never relays a PIN or an SMS code; only
    the service's window (acting for one of its tickets) takes them for its customers."""
    if principal.hosted_only and principal.window_ticket_id is None:
        raise Forbidden(
            "this institution's customers enter PINs and SMS codes in the service's window only",
            code="hosted_only_institution",
        )


def secret_matches(stored_hash: str | None, secret: str) -> bool:
    return stored_hash is not None and compare_digest(stored_hash, secret_hash(secret))
