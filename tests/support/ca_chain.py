"""A root + issuing CA whose keys live in moto's KMS, signed through the production KMS adapter,
and subscriber certificates from it: the chain the CRL and OCSP tests judge their output against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from fincert.adapters.kms import KmsKeyManagement
from fincert.crypto.keys import KeyAlgorithm, generate_private_key, public_key_from_der
from fincert.crypto.kms_keys import kms_private_key
from fincert.crypto.x509_profile import (
    PkiUrls,
    build_issuing_ca_certificate,
    build_root_ca_certificate,
    build_subscriber_certificate,
    new_serial_number,
)

URLS = PkiUrls.from_base("http://pki.fincert.example")
POLICY_OID = "1.3.6.1.4.1.32473.1.1"


class RecordingKms:
    """The production KMS adapter over moto, recording each Sign (message size, is_digest)."""

    def __init__(self, client: Any):
        self._kms = KmsKeyManagement(lambda: client)
        self.signs: list[tuple[int, bool]] = []

    def sign(self, key_id, message, algorithm, *, is_digest=False):
        self.signs.append((len(message), is_digest))
        return self._kms.sign(key_id, message, algorithm, is_digest=is_digest)

    def public_key_der(self, key_id):
        return self._kms.public_key_der(key_id)


@dataclass
class MotoCa:
    kms: RecordingKms
    root_key: Any
    issuing_key: Any
    root: x509.Certificate
    issuing: x509.Certificate
    not_before: dt.datetime

    def leaf(self, urls: PkiUrls = URLS) -> x509.Certificate:
        return build_subscriber_certificate(
            ca_key=self.issuing_key,
            ca_certificate=self.issuing,
            subscriber_public_key=generate_private_key(KeyAlgorithm.EC_P256).public_key(),
            serial_number=new_serial_number(),
            holder_name="홍길동",
            holder_suffix="7F3K9Q",
            not_before=self.not_before,
            urls=urls,
            policy_oid=POLICY_OID,
        )


def moto_ca(client: Any, key_spec: str, not_before: dt.datetime) -> MotoCa:
    """`client` is a boto3 KMS client under moto; key_spec RSA_2048 or ECC_NIST_P256."""
    kms = RecordingKms(client)

    def ca_key():
        key_id = client.create_key(KeySpec=key_spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        return kms_private_key(kms, key_id, public_key_from_der(kms.public_key_der(key_id)))

    root_key, issuing_key = ca_key(), ca_key()
    root = build_root_ca_certificate(signing_key=root_key, not_before=not_before)
    issuing = build_issuing_ca_certificate(
        root_key=root_key,
        root_certificate=root,
        issuing_public_key=issuing_key.public_key(),
        not_before=not_before,
        urls=URLS,
    )
    return MotoCa(kms, root_key, issuing_key, root, issuing, not_before)
