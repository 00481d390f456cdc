"""The certificate authority: a root and an issuing CA whose keys never leave KMS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from fincert.crypto.keys import certificate_public_key, public_key_from_der
from fincert.crypto.kms_keys import KmsEcPrivateKey, KmsRsaPrivateKey, kms_private_key
from fincert.crypto.x509_profile import (
    ISSUING_CA_SUBJECT,
    ROOT_CA_SUBJECT,
    PkiUrls,
    build_issuing_ca_certificate,
    build_root_ca_certificate,
)
from fincert.domain.ca_records import CertificateAuthorityRecord
from fincert.domain.stores import CertificateAuthorityRecords
from fincert.errors import ConditionFailed, ServiceUnavailable
from fincert.ports import Clock, KeyManagement


@dataclass(frozen=True)
class CertificateAuthority:
    record: CertificateAuthorityRecord
    root_certificate: x509.Certificate
    issuing_certificate: x509.Certificate

    @classmethod
    def from_record(cls, record: CertificateAuthorityRecord) -> CertificateAuthority:
        return cls(
            record,
            x509.load_der_x509_certificate(record.root_certificate_der),
            x509.load_der_x509_certificate(record.issuing_certificate_der),
        )

    def issuing_key(
        self, kms: KeyManagement, before_sign: Callable[[bytes], None] | None = None
    ) -> KmsRsaPrivateKey | KmsEcPrivateKey:
        # The public key comes from the stored certificate: no GetPublicKey round trip per issuance.
        return kms_private_key(
            kms,
            self.record.issuing_key_id,
            certificate_public_key(self.issuing_certificate),
            before_sign=before_sign,
        )

    def chain_pem(self) -> str:
        """Issuing CA first, then the root, as one PEM text: the order a TLS-style chain is
        presented in, and what `openssl verify -untrusted` or `-CAfile` reads as it is."""
        return "".join(
            c.public_bytes(Encoding.PEM).decode() for c in (self.issuing_certificate, self.root_certificate)
        )


def load_certificate_authority(store: CertificateAuthorityRecords) -> CertificateAuthority:
    record = store.get_certificate_authority()
    if record is None:
        # A deployment whose CA was never bootstrapped cannot issue; retrying after the operator
        # runs the bootstrap command succeeds, so this is "unavailable", not a client error.
        raise ServiceUnavailable("the certificate authority is not bootstrapped", retry_after=60)
    return CertificateAuthority.from_record(record)


def bootstrap_certificate_authority(
    store: CertificateAuthorityRecords,
    kms: KeyManagement,
    clock: Clock,
    *,
    root_key_id: str,
    issuing_key_id: str,
    pki_base_url: str,
) -> CertificateAuthority:
    """Creates the root and issuing CA certificates once; running it again returns the existing CA."""
    existing = store.get_certificate_authority()
    if existing is not None:
        return CertificateAuthority.from_record(existing)
    now = clock.now()
    root_key = kms_private_key(kms, root_key_id, public_key_from_der(kms.public_key_der(root_key_id)))
    root = build_root_ca_certificate(signing_key=root_key, subject=ROOT_CA_SUBJECT, not_before=now)
    issuing = build_issuing_ca_certificate(
        root_key=root_key,
        root_certificate=root,
        issuing_public_key=public_key_from_der(kms.public_key_der(issuing_key_id)),
        subject=ISSUING_CA_SUBJECT,
        not_before=now,
        urls=PkiUrls.from_base(pki_base_url),
    )
    record = CertificateAuthorityRecord(
        root_key_id=root_key_id,
        issuing_key_id=issuing_key_id,
        root_certificate_der=root.public_bytes(Encoding.DER),
        issuing_certificate_der=issuing.public_bytes(Encoding.DER),
        created_at=now,
    )
    try:
        store.put_certificate_authority(record)
    except ConditionFailed:
        # Another bootstrap won the race: theirs is the CA.
        return load_certificate_authority(store)
    return CertificateAuthority.from_record(record)
