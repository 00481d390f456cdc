"""The API Gateway REQUEST authorizer's logic: a bearer token -> who is calling -> IAM policy +
context. Three kinds of token: an institution's API key (its back end), a customer session token
(a customer through one institution; what CSC clients and browsers send), or the service's own
window's credential for one UI ticket (docs/hosted-window.md). Handlers check which kind a route
takes."""

from __future__ import annotations

from typing import Any, Protocol

from fincert.api.events import header
from fincert.domain.access import authenticate_session, is_session_token
from fincert.domain.institutions import authenticate_api_key
from fincert.domain.stores import Institutions, Sessions, UiTickets
from fincert.domain.window_access import authenticate_window, is_window_token
from fincert.errors import Unauthenticated
from fincert.ports import Clock


class AuthorizerStorage(Institutions, Sessions, UiTickets, Protocol):
    """The storage roles this use case needs (fincert.domain.stores)."""


# API Gateway's contract: raising exactly this message yields 401 (UNAUTHORIZED gateway response).
UNAUTHORIZED = "Unauthorized"


def _api_wildcard_arn(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> every route of this stage, so
    # the cached decision (ReauthorizeEvery) serves all routes; the handlers check scopes.
    arn_prefix, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return f"{arn_prefix}/{stage}/*"


def authorize(event: dict[str, Any], store: AuthorizerStorage, clock: Clock) -> dict[str, Any]:
    scheme, _, token = header(event, "authorization").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Exception(UNAUTHORIZED)
    try:
        if is_session_token(token):
            principal = authenticate_session(store, clock, token)
        elif is_window_token(token):
            principal = authenticate_window(store, clock, token)
        else:
            principal = authenticate_api_key(store, token, clock.now())
    except Unauthenticated:
        raise Exception(UNAUTHORIZED) from None
    return {
        "principalId": principal.institution_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _api_wildcard_arn(event.get("methodArn", "")),
                }
            ],
        },
        # Context values must be strings, numbers or booleans; empty ones are left out.
        "context": {
            key: value
            for key, value in {
                "institution_id": principal.institution_id,
                "scopes": " ".join(sorted(principal.scopes)),
                "account_id": principal.account_id,
                "session_id": principal.session_id,
                "allowed_origins": " ".join(principal.allowed_origins),
                "hosted_only": principal.hosted_only,
                "window_ticket_id": principal.window_ticket_id,
            }.items()
            if value
        },
    }
