"""Minting one credential: a new key pair, wrapped under KMS, and a certificate for it signed by the
CA, with the pre-signing record written before KMS signs. Issuance (domain/enrollment.py) and
auto-renewal (domain/renewal.py) both mint through here, then commit the credential in their own
transaction; until that commit the certificate exists only as its pre-signing record, which the
reconciler revokes if the commit never lands.

Round trips: KMS Encrypt (wrap the key), the pre-signing PutItem, KMS Sign."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from fincert.crypto.keys import KeyAlgorithm, generate_private_key, private_key_to_der
from fincert.crypto.x509_profile import (
    PkiUrls,
    build_subscriber_certificate,
    certificate_validity,
    new_serial_number,
)
from fincert.domain.account_records import Credential
from fincert.domain.ca import CertificateAuthority
from fincert.domain.enrollment_records import PreSigningRecord
from fincert.domain.key_custody import subscriber_key_context as subscriber_key_context  # re-exported
from fincert.domain.stores import Issuance
from fincert.domain.tokens import new_id
from fincert.errors import ConditionFailed, Conflict, IssuingCaExpiring
from fincert.ports import KeyManagement
from fincert.settings import Settings

_SERIAL_ATTEMPTS = 3


@dataclass(frozen=True)
class Holder:
    """Whom the certificate names and whose account holds it."""

    account_id: str
    name: str  # as shown in the certificate (display form)
    suffix: str  # the account's unique suffix: keeps namesakes' DNs apart


def holder_name_of(certificate_der: bytes, suffix: str) -> str:
    """The holder's display name as an earlier certificate shows it (CN = "<name>(<suffix>)"):
    renewal reuses it without decrypting the stored identity."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    common_name = certificate.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
    return str(common_name).removesuffix(f"({suffix})")


def require_issuable(ca: CertificateAuthority, not_before: datetime) -> None:
    """Refuses (IssuingCaExpiring) a certificate starting at `not_before` that would end after the
    issuing CA's certificate. Checked where each path starts (before an SMS, a KMS call or a
    write) and again here, where every path mints: the profile's own check is the last line,
    a 500 if ever reached."""
    _, not_after = certificate_validity(not_before)
    if not_after > ca.issuing_certificate.not_valid_after_utc:
        raise IssuingCaExpiring()


def mint_credential(
    *,
    store: Issuance,
    kms: KeyManagement,
    settings: Settings,
    ca: CertificateAuthority,
    holder: Holder,
    algorithm: KeyAlgorithm,
    issued_by: str,
    auto_renew: bool,
    now: datetime,
    credential_id: str | None = None,
) -> Credential:
    """The new credential, signed and recorded as pre-signed, not yet stored."""
    require_issuable(ca, now)
    credential_id = credential_id or new_id("cred")
    private_key = generate_private_key(algorithm)
    wrapped_key = kms.encrypt(
        settings.key_wrap_key_id,
        private_key_to_der(private_key),
        subscriber_key_context(holder.account_id, credential_id),
    )
    not_before, not_after = certificate_validity(now)
    certificate = None
    for _ in range(_SERIAL_ATTEMPTS):
        serial = new_serial_number()

        def record_before_signing(tbs: bytes, serial: int = serial) -> None:
            store.put_pre_signing_record(
                PreSigningRecord(
                    serial_number=serial,
                    credential_id=credential_id,
                    account_id=holder.account_id,
                    tbs_sha256=hashlib.sha256(tbs).hexdigest(),
                    not_after=not_after,
                    created_at=now,
                )
            )

        try:
            certificate = build_subscriber_certificate(
                ca_key=ca.issuing_key(kms, before_sign=record_before_signing),
                ca_certificate=ca.issuing_certificate,
                subscriber_public_key=private_key.public_key(),
                serial_number=serial,
                holder_name=holder.name,
                holder_suffix=holder.suffix,
                not_before=not_before,
                urls=PkiUrls.from_base(settings.pki_base_url),
                policy_oid=settings.certificate_policy_oid,
            )
            break
        except ConditionFailed:
            continue  # a 159-bit serial collided: astronomically rare, but never reuse one
    if certificate is None:
        raise Conflict("could not allocate a serial number", code="serial_exhausted")

    return Credential(
        credential_id=credential_id,
        account_id=holder.account_id,
        serial_number=certificate.serial_number,
        key_algorithm=algorithm.value,
        certificate_der=certificate.public_bytes(Encoding.DER),
        wrapped_private_key=wrapped_key,
        not_before=not_before,
        not_after=not_after,
        issued_by=issued_by,
        auto_renew=auto_renew,
        created_at=now,
    )
