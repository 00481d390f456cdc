"""The history listing's query parameters, shared by the bank's `GET /v1/history` and the manage
window's `GET /v1/window/history`: one definition, so the two routes validate alike."""

from __future__ import annotations

from typing import Annotated

from fincert.api.routing import Query

HISTORY_QUERY_PARAMETERS = frozenset({"limit", "cursor", "content_sha256"})

HistoryLimit = Annotated[int, Query(ge=1, le=100)]
HistoryCursor = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
ContentSha256Filter = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9a-fA-F]{64}$",
        description="Only the signatures of the content with this SHA-256 (hex): the history"
        " keeps contents as keyed values, which the service computes for this digest",
    ),
]


def content_digest(content_sha256: str | None) -> bytes | None:
    return bytes.fromhex(content_sha256) if content_sha256 else None
