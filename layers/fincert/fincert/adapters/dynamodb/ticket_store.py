"""What the bank's ticket calls use: tickets, the institution, sessions (a connect code's) and
the enrollment an issue ticket names."""

from __future__ import annotations

from fincert.adapters.dynamodb.enrollments import EnrollmentTable
from fincert.adapters.dynamodb.institutions import InstitutionTable
from fincert.adapters.dynamodb.sessions import SessionTable
from fincert.adapters.dynamodb.tickets import TicketTable


class TicketStore(TicketTable, InstitutionTable, SessionTable, EnrollmentTable):
    pass
