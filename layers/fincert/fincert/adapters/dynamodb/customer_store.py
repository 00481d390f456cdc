"""A customer's account as the connected customer uses it: connection and sessions, PIN use,
devices, registrations, history, signing (SADs) and status changes."""

from __future__ import annotations

from fincert.adapters.dynamodb.accounts import AccountTable
from fincert.adapters.dynamodb.devices import DeviceTable
from fincert.adapters.dynamodb.history import HistoryTable
from fincert.adapters.dynamodb.institutions import InstitutionTable
from fincert.adapters.dynamodb.sessions import SessionTable


class CustomerStore(AccountTable, InstitutionTable, SessionTable, HistoryTable, DeviceTable):
    pass
