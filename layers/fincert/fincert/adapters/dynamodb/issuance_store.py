"""Enrollment and issuance: the enrollment, the pre-signing record, the issuance transaction, the
account it creates or updates, and the CA's record."""

from __future__ import annotations

from fincert.adapters.dynamodb.accounts import AccountTable
from fincert.adapters.dynamodb.enrollments import EnrollmentTable
from fincert.adapters.dynamodb.institutions import InstitutionTable
from fincert.adapters.dynamodb.issuance import IssuanceTable


class IssuanceStore(EnrollmentTable, IssuanceTable, AccountTable, InstitutionTable):
    pass
