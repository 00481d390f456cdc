"""The whole table: every aggregate's table code in one store, for the operator's commands, the
scheduled jobs, the hosted window (which runs every use case) and the tests. Use cases that need
less get a narrower composition (the *_store.py modules beside this one)."""

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
