"""What a window reads and opens with its ticket: the institution, the connected customer's
account and certificate, sessions; without the issuance, signing or job code (cold start)."""

from __future__ import annotations

from fincert.adapters.dynamodb.accounts import AccountTable
from fincert.adapters.dynamodb.institutions import InstitutionTable
from fincert.adapters.dynamodb.sessions import SessionTable
from fincert.adapters.dynamodb.tickets import TicketTable


class WindowStore(TicketTable, InstitutionTable, SessionTable, AccountTable):
    pass
