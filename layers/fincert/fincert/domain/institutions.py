"""Member institutions (banks) and their API keys. Only a hash of each key is stored.

The operator manages them (fincert.admin): register, list, rotate a key, add or remove a
browser origin, deactivate and reactivate. A deactivated institution's key, its customers'
sessions and its window credentials are refused from the next request on: the authorizer reads
the institution with every credential it checks (fincert.domain.access)."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from fincert.domain.institution_records import Institution, Principal, Scope
from fincert.domain.stores import InstitutionManagement, Institutions
from fincert.domain.tokens import secret_hash
from fincert.errors import ConditionFailed, Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated

API_KEY_PREFIX = "fck"
INSTITUTION_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,30}[a-z0-9]")
_API_KEY = re.compile(rf"fck_({INSTITUTION_ID.pattern})_([A-Za-z0-9_-]{{43}})")
# A browser origin as the Origin header carries it: scheme, host, optional port; nothing else.
ORIGIN = re.compile(r"https?://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?")
# What `register-institution` grants when no --scope is named: a member bank issues certificates
# and connects its customers, and needs both (with `enroll` alone its customers could never sign).
# The command prints the scopes it granted and says when they are this default.
DEFAULT_SCOPES: tuple[str, ...] = (Scope.CONNECT.value, Scope.ENROLL.value)
# After a rotation the old key keeps working this long by default, time for the bank to deploy
# the new one; the operator may choose 0 (a leaked key) up to MAX_API_KEY_GRACE.
API_KEY_GRACE = timedelta(hours=24)
MAX_API_KEY_GRACE = timedelta(days=30)


def _check_origins(origins: Iterable[str]) -> None:
    if any(not ORIGIN.fullmatch(origin) for origin in origins):
        raise InvalidRequest(
            "origins look like https://bank.example or https://bank.example:8443", code="origin_invalid"
        )


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, secret_hash(secret)


def register_institution(
    store: Institutions,
    institution_id: str,
    name: str,
    scopes: Iterable[str],
    allowed_origins: Iterable[str] = (),
    *,
    hosted_only: bool = False,
) -> tuple[Institution, str]:
    """Returns the institution and its API key; the key is shown once and never stored."""
    scopes = list(scopes)
    if not INSTITUTION_ID.fullmatch(institution_id):
        raise InvalidRequest(
            "institution id: 3-32 lowercase letters, digits or dashes", code="institution_id_invalid"
        )
    allowed_origins = list(allowed_origins)
    _check_origins(allowed_origins)
    unknown = set(scopes) - {scope.value for scope in Scope}
    if unknown:
        raise InvalidRequest(f"unknown scopes: {', '.join(sorted(unknown))}", code="scope_invalid")
    secret, hashed = _new_secret()
    institution = Institution(
        institution_id=institution_id,
        name=name,
        api_key_hash=hashed,
        scopes=frozenset(scopes),
        allowed_origins=tuple(allowed_origins),
        hosted_only=hosted_only,
    )
    try:
        store.put_institution(institution)
    except ConditionFailed as e:
        raise Conflict(f"institution {institution_id} exists", code="institution_exists") from e
    return institution, format_api_key(institution_id, secret)


def format_api_key(institution_id: str, secret: str) -> str:
    return f"{API_KEY_PREFIX}_{institution_id}_{secret}"


def authenticate_api_key(store: Institutions, api_key: str, now: datetime | None = None) -> Principal:
    """The institution's principal; Unauthenticated for a malformed, unknown or wrong key, and for
    a deactivated institution's. A key rotated out still works until its grace period ends, when
    `now` is given (the authorizer gives it; without it only the current key works)."""
    match = _API_KEY.fullmatch(api_key)
    if not match:
        raise Unauthenticated()
    institution_id, secret = match.groups()
    # Strongly consistent: a deactivation or a rotation without grace applies at the very next
    # request, not once a replica catches up (one read unit instead of half).
    institution = store.get_institution(institution_id, consistent=True)
    if institution is None or not institution.active or not key_matches(institution, secret, now):
        raise Unauthenticated()
    return Principal(
        institution_id=institution.institution_id,
        scopes=institution.scopes,
        hosted_only=institution.hosted_only,
    )


def key_matches(institution: Institution, secret: str, now: datetime | None) -> bool:
    presented = secret_hash(secret)
    if hmac.compare_digest(institution.api_key_hash, presented):
        return True
    previous, until = institution.previous_api_key_hash, institution.previous_key_valid_until
    return (
        previous is not None
        and until is not None
        and now is not None
        and now < until
        and hmac.compare_digest(previous, presented)
    )


# --- the operator's management -----------------------------------------------------------------
def _unknown(institution_id: str) -> NotFound:
    return NotFound(f"no institution {institution_id}", code="institution_not_found")


def get_institution(store: Institutions, institution_id: str) -> Institution:
    institution = store.get_institution(institution_id)
    if institution is None:
        raise _unknown(institution_id)
    return institution


def list_institutions(store: InstitutionManagement) -> list[Institution]:
    return store.list_institutions()


def rotate_api_key(
    store: InstitutionManagement, institution_id: str, now: datetime, grace: timedelta = API_KEY_GRACE
) -> tuple[Institution, str]:
    """A new key, valid at once; the current one keeps working until now + grace (0: refused
    from now on). Returns the institution and the new key, shown once."""
    if not timedelta(0) <= grace <= MAX_API_KEY_GRACE:
        raise InvalidRequest(
            f"the grace period is 0 to {MAX_API_KEY_GRACE.days} days", code="grace_period_invalid"
        )
    secret, hashed = _new_secret()
    try:
        # No grace: the old key is removed, not kept until `now`, which is the operator's clock
        # (a laptop running ahead would keep a leaked key working).
        institution = store.rotate_api_key(institution_id, hashed, now + grace if grace else None)
    except ConditionFailed:
        raise _unknown(institution_id) from None
    return institution, format_api_key(institution_id, secret)


def origin_allowed(store: Institutions, origin: str) -> bool:
    """Whether a CORS preflight from this browser origin passes: an active institution registered
    it. A deactivated institution's origins are refused like unknown ones (its customers' calls
    would all get 401 anyway)."""
    return bool(ORIGIN.fullmatch(origin)) and any(i.active for i in store.institutions_of_origin(origin))


def set_active(store: InstitutionManagement, institution_id: str, active: bool) -> Institution:
    """Deactivate (False) or reactivate (True); the authorizer sees it on the next request."""
    try:
        return store.set_institution_active(institution_id, active)
    except ConditionFailed:
        raise _unknown(institution_id) from None


def add_origin(store: InstitutionManagement, institution_id: str, origin: str) -> Institution:
    _check_origins([origin])
    institution = get_institution(store, institution_id)
    if origin in institution.allowed_origins:
        return institution
    try:
        store.add_institution_origin(institution_id, origin)
    except ConditionFailed:
        raise Conflict("the institution's origins changed meanwhile; retry", code="origins_changed") from None
    return replace(institution, allowed_origins=(*institution.allowed_origins, origin))


def remove_origin(store: InstitutionManagement, institution_id: str, origin: str) -> Institution:
    institution = get_institution(store, institution_id)
    if origin not in institution.allowed_origins:
        raise NotFound(f"{institution_id} has no origin {origin}", code="origin_not_found")
    try:
        store.remove_institution_origin(institution_id, institution.allowed_origins, origin)
    except ConditionFailed:
        raise Conflict("the institution's origins changed meanwhile; retry", code="origins_changed") from None
    remaining = tuple(kept for kept in institution.allowed_origins if kept != origin)
    return replace(institution, allowed_origins=remaining)


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise Forbidden(f"this institution may not {scope}", code="scope_missing")
