"""The DynamoDB adapter: one single table (fincert.adapters.dynamodb.keys has its key schema),
one module per aggregate, composed into the one store the composition root wires into every
role port the domain declares."""

from __future__ import annotations

from fincert.adapters.dynamodb.accounts import AccountTable
from fincert.adapters.dynamodb.devices import DeviceTable
from fincert.adapters.dynamodb.enrollments import EnrollmentTable
from fincert.adapters.dynamodb.history import HistoryTable
from fincert.adapters.dynamodb.institutions import InstitutionTable
from fincert.adapters.dynamodb.issuance import IssuanceTable
from fincert.adapters.dynamodb.jobs import JobTable
from fincert.adapters.dynamodb.purge import PurgeTable
from fincert.adapters.dynamodb.serials import SerialTable
from fincert.adapters.dynamodb.sessions import SessionTable
from fincert.adapters.dynamodb.tickets import TicketTable


class DynamoStore(
    InstitutionTable,
    EnrollmentTable,
    IssuanceTable,
    AccountTable,
    SessionTable,
    DeviceTable,
    HistoryTable,
    SerialTable,
    JobTable,
    PurgeTable,
    TicketTable,
):
    """The whole table: every role port's implementation, over one client and table name."""
