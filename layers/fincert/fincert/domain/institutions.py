"""Member institutions (banks) and their API keys. Only a hash of each key is stored."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable

from fincert.domain.model import Institution, Principal, Scope
from fincert.domain.stores import Institutions
from fincert.domain.tokens import secret_hash
from fincert.errors import ConditionFailed, Conflict, Forbidden, InvalidRequest, Unauthenticated

API_KEY_PREFIX = "fck"
_INSTITUTION_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,30}[a-z0-9]")
_API_KEY = re.compile(r"fck_([a-z0-9-]{3,32})_([A-Za-z0-9_-]{43})")
# A browser origin as the Origin header carries it: scheme, host, optional port; nothing else.
ORIGIN = re.compile(r"https?://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?")


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
    if not _INSTITUTION_ID.fullmatch(institution_id):
        raise InvalidRequest(
            "institution id: 3-32 lowercase letters, digits or dashes", code="institution_id_invalid"
        )
    allowed_origins = list(allowed_origins)
    bad_origins = [origin for origin in allowed_origins if not ORIGIN.fullmatch(origin)]
    if bad_origins:
        raise InvalidRequest(
            "origins look like https://bank.example or https://bank.example:8443", code="origin_invalid"
        )
    unknown = set(scopes) - {scope.value for scope in Scope}
    if unknown:
        raise InvalidRequest(f"unknown scopes: {', '.join(sorted(unknown))}", code="scope_invalid")
    secret = secrets.token_urlsafe(32)
    institution = Institution(
        institution_id=institution_id,
        name=name,
        api_key_hash=secret_hash(secret),
        scopes=frozenset(scopes),
        allowed_origins=tuple(allowed_origins),
        hosted_only=hosted_only,
    )
    try:
        store.put_institution(institution)
    except ConditionFailed as e:
        raise Conflict(f"institution {institution_id} exists", code="institution_exists") from e
    return institution, f"{API_KEY_PREFIX}_{institution_id}_{secret}"


def authenticate_api_key(store: Institutions, api_key: str) -> Principal:
    match = _API_KEY.fullmatch(api_key)
    if not match:
        raise Unauthenticated()
    institution_id, secret = match.groups()
    institution = store.get_institution(institution_id)
    if institution is None or not institution.active:
        raise Unauthenticated()
    if not hmac.compare_digest(institution.api_key_hash, secret_hash(secret)):
        raise Unauthenticated()
    return Principal(
        institution_id=institution.institution_id,
        scopes=institution.scopes,
        hosted_only=institution.hosted_only,
    )


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise Forbidden(f"this institution may not {scope}", code="scope_missing")
