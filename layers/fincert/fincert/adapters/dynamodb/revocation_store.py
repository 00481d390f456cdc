"""Revocation status: serials (OCSP, CRLs, the verify call) and the CA's and the OCSP
responder's records."""

from __future__ import annotations

from fincert.adapters.dynamodb.institutions import InstitutionTable
from fincert.adapters.dynamodb.serials import SerialTable


class RevocationStore(SerialTable, InstitutionTable):
    pass
