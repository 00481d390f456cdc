"""UI tickets: minted by a bank's back end (counted against its per-minute limit), redeemed once
by the service's window, bound to the customer it connects, closed with their outcome."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.items import SharedItems, session_item
from fincert.adapters.dynamodb.table import (
    as_bytes,
    attribute_values,
    epoch_seconds,
    from_iso,
    from_millis,
    iso,
    load_item,
    millis,
)
from fincert.domain.institution_records import Institution
from fincert.domain.rate_limits import RateLimit
from fincert.domain.retention import PENDING_REQUEST_RETENTION
from fincert.domain.session_records import Session
from fincert.domain.ticket_records import SignOrder, TicketContent, TicketPurpose, TicketStatus, UiTicket
from fincert.errors import ConditionFailed, TicketUnavailable

_OPEN = TicketStatus.OPEN.value


def _ticket_item(t: UiTicket) -> dict[str, Any]:
    item: dict[str, Any] = {
        **keys.ticket(t.ticket_id).as_dict(),
        "institution_id": t.institution_id,
        "purpose": t.purpose.value,
        "origin": t.origin,
        "scopes": set(t.scopes) or None,
        "secret_hash": t.secret_hash,
        "created_at": iso(t.created_at),
        "valid_until": millis(t.expires_at),
        "status": t.status.value,
        "hosted_only": t.hosted_only,
        "enrollment_id": t.enrollment_id,
        # The bank's back end reads the outcome for a while after the window closed.
        "expires_at": epoch_seconds(t.expires_at + PENDING_REQUEST_RETENTION),
    }
    if t.sign is not None:
        item["sign"] = {
            "sign_type": t.sign.sign_type,
            "formats": list(t.sign.formats),
            "contents": [
                {"kind": c.kind, "data": c.data, **({"name": c.name} if c.name else {})}
                for c in t.sign.contents
            ],
        }
    return item


def _to_ticket(item: dict[str, Any]) -> UiTicket:
    sign = item.get("sign")
    window_until = item.get("window_valid_until")
    code_until = item.get("connect_code_valid_until")
    return UiTicket(
        ticket_id=item["pk"].removeprefix("TICKET#"),
        institution_id=item["institution_id"],
        purpose=TicketPurpose(item["purpose"]),
        origin=item["origin"],
        scopes=frozenset(item.get("scopes", ())),
        secret_hash=item["secret_hash"],
        created_at=from_iso(item["created_at"]),
        expires_at=from_millis(item["valid_until"]),
        status=TicketStatus(item["status"]),
        hosted_only=bool(item.get("hosted_only", False)),
        enrollment_id=item.get("enrollment_id"),
        sign=SignOrder(
            sign_type=sign["sign_type"],
            formats=tuple(sign["formats"]),
            contents=tuple(
                TicketContent(kind=c["kind"], data=as_bytes(c["data"]), name=c.get("name"))
                for c in sign["contents"]
            ),
        )
        if sign
        else None,
        window_secret_hash=item.get("window_secret_hash"),
        window_expires_at=from_millis(window_until) if window_until is not None else None,
        account_id=item.get("account_id"),
        outcome=json.loads(item["outcome"]) if item.get("outcome") else {},
        connect_code_hash=item.get("connect_code_hash"),
        connect_code_expires_at=from_millis(code_until) if code_until is not None else None,
        connect_code_used=bool(item.get("connect_code_used", False)),
    )


class TicketTable(SharedItems):
    def create_ticket(self, ticket: UiTicket, limit: RateLimit) -> None:
        self._create_with_limits(
            _ticket_item(ticket),
            [limit],
            ticket.created_at,
            refusal=("ticket_rate_limited", "too many UI tickets this minute, retry later"),
        )

    def get_ticket(self, ticket_id: str) -> UiTicket | None:
        item = self._get(keys.ticket(ticket_id))
        return _to_ticket(item) if item else None

    def get_ticket_and_institution(
        self, institution_id: str, ticket_id: str
    ) -> tuple[UiTicket | None, Institution | None]:
        item, institution = self._with_institution(keys.ticket(ticket_id), institution_id)
        return (_to_ticket(item) if item else None), institution

    def open_ticket(
        self,
        ticket_id: str,
        secret_hash: str,
        origin: str,
        window_secret_hash: str,
        window_expires_at: datetime,
        now: datetime,
    ) -> UiTicket:
        try:
            response = self._update(
                keys.ticket(ticket_id),
                UpdateExpression=(
                    "SET #status = :open, window_secret_hash = :window, window_valid_until = :window_until,"
                    " opened_at = :now_iso"
                ),
                ConditionExpression=(
                    "attribute_exists(pk) AND #status = :pending AND secret_hash = :secret"
                    " AND valid_until > :now AND origin = :origin"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=attribute_values(
                    {
                        ":open": _OPEN,
                        ":pending": TicketStatus.PENDING.value,
                        ":secret": secret_hash,
                        ":origin": origin,
                        ":window": window_secret_hash,
                        ":window_until": millis(window_expires_at),
                        ":now": millis(now),
                        ":now_iso": iso(now),
                    }
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as e:
            # The window secret is new for each redemption: the ticket opened with it is this
            # very redemption, which botocore sent again after its answer was lost.
            if e.stored is not None and e.stored.get("window_secret_hash") == window_secret_hash:
                return _to_ticket(e.stored)
            raise TicketUnavailable(_to_ticket(e.stored) if e.stored else None) from e
        return _to_ticket(load_item(response["Attributes"]))

    def _while_open(
        self,
        ticket_id: str,
        now: datetime,
        update: str,
        values: dict[str, Any],
        *,
        closes_with: dict[str, Any] | None = None,
    ) -> None:
        """closes_with: the attributes an update that ends the flow sets (status, outcome...,
        its time aside). Finding the ticket closed already with exactly those, it is this
        update's own retry after a lost answer (botocore's), and done."""
        try:
            self._update(
                keys.ticket(ticket_id),
                UpdateExpression=update,
                ConditionExpression="#status = :open AND window_valid_until > :now",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=attribute_values({":open": _OPEN, ":now": millis(now), **values}),
                **({"ReturnValuesOnConditionCheckFailure": "ALL_OLD"} if closes_with else {}),
            )
        except ConditionFailed as e:
            stored = e.stored
            if closes_with and stored is not None and all(stored.get(k) == v for k, v in closes_with.items()):
                return
            raise

    def connect_ticket(self, ticket_id: str, account_id: str, now: datetime) -> None:
        self._while_open(ticket_id, now, "SET account_id = :account", {":account": account_id})

    def complete_ticket(
        self,
        ticket_id: str,
        outcome: dict[str, Any],
        now: datetime,
        *,
        account_id: str | None = None,
        connect_code_hash: str | None = None,
        connect_code_expires_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {
            ":completed": TicketStatus.COMPLETED.value,
            ":outcome": json.dumps(outcome, separators=(",", ":")),
            ":now_iso": iso(now),
        }
        update = "SET #status = :completed, outcome = :outcome, completed_at = :now_iso"
        closes_with = {"status": values[":completed"], "outcome": values[":outcome"]}
        if account_id is not None:
            update += ", account_id = :account"
            values[":account"] = account_id
            closes_with["account_id"] = account_id
        if connect_code_hash is not None and connect_code_expires_at is not None:
            update += ", connect_code_hash = :code, connect_code_valid_until = :code_until"
            values[":code"] = connect_code_hash
            values[":code_until"] = millis(connect_code_expires_at)
            closes_with["connect_code_hash"] = connect_code_hash  # new for each code
        self._while_open(ticket_id, now, update, values, closes_with=closes_with)

    def cancel_ticket(self, ticket_id: str, now: datetime) -> None:
        self._while_open(
            ticket_id,
            now,
            "SET #status = :cancelled, completed_at = :now_iso",
            {":cancelled": TicketStatus.CANCELLED.value, ":now_iso": iso(now)},
            closes_with={"status": TicketStatus.CANCELLED.value},
        )

    def exchange_connect_code(self, ticket_id: str, code_hash: str, now: datetime, session: Session) -> None:
        self._transact(
            [
                self._tx_update(
                    keys.ticket(ticket_id),
                    UpdateExpression="SET connect_code_used = :true",
                    ConditionExpression=(
                        "connect_code_hash = :code AND connect_code_valid_until > :now"
                        " AND attribute_not_exists(connect_code_used)"
                    ),
                    ExpressionAttributeValues=attribute_values(
                        {":true": True, ":code": code_hash, ":now": millis(now)}
                    ),
                ),
                # The account must still exist: a purge in between leaves nothing to connect to.
                self._tx_check(keys.account(session.account_id), ConditionExpression="attribute_exists(pk)"),
                self._put(session_item(session)),
            ],
            ["ticket", "account", "session"],
        )
