"""The API Gateway REQUEST authorizer's logic: API key -> institution -> IAM policy + context."""

from __future__ import annotations

from typing import Any

from fincert.api.events import header
from fincert.domain.institutions import authenticate_api_key
from fincert.errors import Unauthenticated
from fincert.ports import Store

# API Gateway's contract: raising exactly this message yields 401 (UNAUTHORIZED gateway response).
UNAUTHORIZED = "Unauthorized"


def _api_wildcard_arn(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> every route of this stage, so
    # the cached decision (ReauthorizeEvery) serves all routes; the handlers check scopes.
    arn_prefix, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return f"{arn_prefix}/{stage}/*"


def authorize(event: dict[str, Any], store: Store) -> dict[str, Any]:
    scheme, _, token = header(event, "authorization").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Exception(UNAUTHORIZED)
    try:
        principal = authenticate_api_key(store, token.strip())
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
        "context": {"institution_id": principal.institution_id, "scopes": " ".join(sorted(principal.scopes))},
    }
