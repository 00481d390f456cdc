"""The CA bootstrap (fincert.domain.ca) with the fake KMS and the DynamoDB store on moto: created
once, chained to its root, and safe when two bootstraps race."""

from __future__ import annotations

import subprocess
import threading
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.store import DynamoStore
from fincert.clock import FixedClock
from fincert.domain.ca import (
    CertificateAuthority,
    bootstrap_certificate_authority,
    load_certificate_authority,
)
from fincert.domain.ca_records import CertificateAuthorityRecord
from fincert.errors import ServiceUnavailable

from tests.fakes.kms import FakeKeyManagement

ROOT, ISSUING = "root-ca", "issuing-ca"
PKI_BASE_URL = "http://pki.fincert.example"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def key_material() -> FakeKeyManagement:
    # RSA key generation is the expensive part: make the two CA keys once per module.
    kms = FakeKeyManagement()
    kms.create_key(ROOT, "RSA_2048")
    kms.create_key(ISSUING, "RSA_2048")
    return kms


@pytest.fixture
def kms(key_material: FakeKeyManagement) -> FakeKeyManagement:
    """A fresh fake (no calls, no pending faults) holding the module's keys."""
    fresh = FakeKeyManagement()
    fresh._keys = dict(key_material._keys)
    return fresh


def bootstrap(store, kms, at: datetime = NOW) -> CertificateAuthority:
    return bootstrap_certificate_authority(
        store, kms, FixedClock(at), root_key_id=ROOT, issuing_key_id=ISSUING, pki_base_url=PKI_BASE_URL
    )


def spki(kms: FakeKeyManagement, key_id: str) -> bytes:
    return kms.public_key_der(key_id)


def test_bootstrap_stores_the_ca_it_returns(kms, store):
    ca = bootstrap(store, kms)
    assert store.get_certificate_authority() == ca.record
    assert ca.record.root_key_id == ROOT
    assert ca.record.issuing_key_id == ISSUING
    assert ca.record.created_at == NOW


def test_ca_certificates_carry_the_kms_public_keys(kms, store):
    ca = bootstrap(store, kms)
    der = Encoding.DER
    assert ca.root_certificate.public_key().public_bytes(der, PublicFormat.SubjectPublicKeyInfo) == spki(
        kms, ROOT
    )
    assert ca.issuing_certificate.public_key().public_bytes(der, PublicFormat.SubjectPublicKeyInfo) == spki(
        kms, ISSUING
    )


def test_second_bootstrap_returns_the_same_ca_without_signing(kms, store, dynamodb):
    first = bootstrap(store, kms)
    assert kms.operations().count("sign") == 2  # the root signs itself, then the issuing CA
    calls_before = list(kms.calls)

    second = bootstrap(store, kms, at=datetime(2026, 6, 1, tzinfo=UTC))

    assert kms.calls == calls_before, "no KMS call at all, in particular no Sign"
    assert second.record == first.record
    assert second.root_certificate == first.root_certificate
    assert second.issuing_certificate == first.issuing_certificate
    assert dynamodb.calls.count("put_item") == 1, "one CA record written (PutItem), by the first"


def test_issuing_ca_chains_to_the_root(kms, store):
    ca = bootstrap(store, kms)
    ca.root_certificate.verify_directly_issued_by(ca.root_certificate)
    ca.issuing_certificate.verify_directly_issued_by(ca.root_certificate)
    assert ca.issuing_certificate.issuer == ca.root_certificate.subject
    constraints = ca.issuing_certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True
    assert constraints.path_length == 0


def test_issuing_ca_chains_to_the_root_for_openssl(kms, store, tmp_path):
    ca = bootstrap(store, kms)
    root_pem, issuing_pem = (
        c.public_bytes(Encoding.PEM).decode() for c in (ca.root_certificate, ca.issuing_certificate)
    )
    (tmp_path / "root.pem").write_text(root_pem)
    (tmp_path / "issuing.pem").write_text(issuing_pem)
    # -attime: the CA's validity starts at the fixed clock, not at the wall clock.
    result = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-attime",
            str(int(NOW.timestamp()) + 60),
            "-CAfile",
            "root.pem",
            "issuing.pem",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "issuing.pem: OK"


def test_chain_pem_lists_the_issuing_ca_then_the_root(kms, store):
    ca = bootstrap(store, kms)
    issuing, root = x509.load_pem_x509_certificates(ca.chain_pem().encode())
    assert issuing == ca.issuing_certificate
    assert root == ca.root_certificate


class _StoreLosingTheRace(DynamoStore):
    """Another bootstrap writes its CA between our read (nothing there yet) and our put."""

    def __init__(self, client, table_name: str, winner: CertificateAuthorityRecord):
        super().__init__(client, table_name)
        self._winner: CertificateAuthorityRecord | None = winner

    def get_certificate_authority(self) -> CertificateAuthorityRecord | None:
        found = super().get_certificate_authority()
        if found is None and self._winner is not None:
            winner, self._winner = self._winner, None
            super().put_certificate_authority(winner)
        return found


def test_a_bootstrap_that_loses_the_race_returns_the_winners_ca(kms, store, dynamodb, dynamodb_table, table):
    winner = bootstrap(store, kms, at=datetime(2024, 12, 31, tzinfo=UTC))
    # Back to an empty table: the racing store writes the winner's CA itself, mid-bootstrap.
    table.delete(keys.CERTIFICATE_AUTHORITY)
    racing = _StoreLosingTheRace(lambda: dynamodb, dynamodb_table.name, winner.record)
    dynamodb.calls.clear()

    loser = bootstrap(racing, kms)

    assert dynamodb.calls.count("put_item") == 2  # the winner's CA record, then our refused one
    assert loser.record == winner.record
    assert loser.root_certificate == winner.root_certificate
    assert loser.issuing_certificate == winner.issuing_certificate
    assert racing.get_certificate_authority() == winner.record


def test_concurrent_bootstraps_agree_on_one_ca(kms, store):
    start = threading.Barrier(4)
    results: list[CertificateAuthority] = []
    errors: list[BaseException] = []

    def run(offset: int) -> None:
        start.wait()
        try:
            results.append(bootstrap(store, kms, at=NOW.replace(second=offset)))
        except BaseException as e:  # reported below, with the others
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    stored = store.get_certificate_authority()
    assert stored is not None
    assert [r.record for r in results] == [stored] * 4


def test_an_unbootstrapped_ca_is_unavailable_not_a_client_error(store):
    with pytest.raises(ServiceUnavailable) as refused:
        load_certificate_authority(store)
    assert refused.value.retry_after == 60
