"""The CA's own records: its KMS keys and certificates, and the delegated OCSP responder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CertificateAuthorityRecord:
    root_key_id: str
    issuing_key_id: str
    root_certificate_der: bytes
    issuing_certificate_der: bytes
    created_at: datetime


@dataclass(frozen=True)
class OcspResponderRecord:
    """The delegated OCSP responder: its certificate (issued by the issuing CA) and its private
    key wrapped under the key-wrap key with the context fincert.domain.revocation_status
    .responder_key_context names."""

    certificate_der: bytes
    wrapped_private_key: bytes
    serial_number: int
    not_after: datetime
    created_at: datetime
