"""Who is calling: institutions (API keys, origins, the CA's record), customer sessions and UI
tickets. What the authorizer, the CORS preflights and the CA's loading read."""

from __future__ import annotations

from fincert.adapters.dynamodb.institutions import InstitutionTable
from fincert.adapters.dynamodb.sessions import SessionTable
from fincert.adapters.dynamodb.tickets import TicketTable


class AccessStore(InstitutionTable, SessionTable, TicketTable):
    pass
