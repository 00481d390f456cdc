"""The delegated OCSP responder's life: created by bootstrap, renewed before it expires (the
daily schedule, the admin command), picked up by running containers, its key usable only in
its own encryption context; and the serial states the answers come from (pre-signed records,
the reconciler's revocations)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from fincert.admin import ensure_ocsp_responder, main
from fincert.crl_partitions import crl_partition
from fincert.crypto.x509_profile import OCSP_RESPONDER_VALIDITY, certificate_validity, new_serial_number
from fincert.domain.enrollment_records import PreSigningRecord
from fincert.domain.reconcile import GRACE, reconcile_presigned
from fincert.domain.revocation_status import RESPONDER_RELOAD, RESPONDER_RENEW_BEFORE, responder_key_context
from fincert.errors import DecryptionRefused
from fincert.wiring import services

from tests.support.customers import issue
from tests.support.in_process import Api, load_event
from tests.support.verifiers import assert_pkilint_clean

# CertIDs hash the CA's name and key with SHA-1 in what openssl and RFC 5019 clients send.
SHA1 = hashes.SHA1()  # noqa: S303


@pytest.fixture
def svc(clock):
    """The services the gateway's handlers use, with the test's fixed clock."""
    return services()


def _ask(gateway, ca, serial: int) -> ocsp.OCSPResponse:
    from fincert.crypto.ocsp import issuer_hashes

    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(*issuer_hashes(ca.issuing_certificate, SHA1), serial, SHA1)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    response = Api(gateway).post(
        "/pki/ocsp", body=request, headers={"Content-Type": "application/ocsp-request"}
    )
    assert response.status == 200, response.body
    return ocsp.load_der_ocsp_response(response.body)


def test_responder_certificate_profile_is_pkilint_clean(svc, ca, clock, tmp_path):
    record, created = ensure_ocsp_responder(svc, force=True)
    assert created
    cert = x509.load_der_x509_certificate(record.certificate_der)
    cert.verify_directly_issued_by(ca.issuing_certificate)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == OCSP_RESPONDER_VALIDITY
    ext = cert.extensions
    assert ext.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [x509.ExtendedKeyUsageOID.OCSP_SIGNING]
    )
    assert ext.get_extension_for_class(x509.OCSPNoCheck)
    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    (tmp_path / "responder.der").write_bytes(record.certificate_der)
    assert_pkilint_clean("lint_pkix_cert", str(tmp_path / "responder.der"))


def test_renewal_happens_once_and_only_when_due(svc, ca, clock):
    first, _ = ensure_ocsp_responder(svc)
    assert ensure_ocsp_responder(svc) == (first, False)
    clock.at = first.not_after - RESPONDER_RENEW_BEFORE - timedelta(seconds=1)
    assert ensure_ocsp_responder(svc) == (first, False)
    clock.at = first.not_after - RESPONDER_RENEW_BEFORE + timedelta(seconds=1)
    second, renewed = ensure_ocsp_responder(svc)
    assert renewed and second.serial_number != first.serial_number
    assert ensure_ocsp_responder(svc) == (second, False)  # running twice renews once


def test_running_containers_pick_up_a_renewed_responder(api, svc, ca, clock, aws_calls):
    leaf = x509.load_pem_x509_certificate(issue(api)["certificate_pem"].encode())
    first, _ = ensure_ocsp_responder(svc)
    assert _ask(api.gateway, ca, leaf.serial_number).certificates[0].serial_number == first.serial_number
    second, _ = ensure_ocsp_responder(svc, force=True)
    # Until the reload period ends the container keeps answering with the key it holds.
    assert _ask(api.gateway, ca, leaf.serial_number).certificates[0].serial_number == first.serial_number
    clock.at = clock.now() + RESPONDER_RELOAD
    aws_calls.clear()
    answer = _ask(api.gateway, ca, leaf.serial_number)
    assert answer.certificates[0].serial_number == second.serial_number
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert aws_calls.calls.count("kms.Decrypt") == 1


def test_an_expired_responder_is_503_not_a_rejected_answer(api, svc, ca, clock):
    leaf = x509.load_pem_x509_certificate(issue(api)["certificate_pem"].encode())
    record, _ = ensure_ocsp_responder(svc)
    clock.at = record.not_after + timedelta(seconds=1)
    response = Api(api.gateway).post(
        "/pki/ocsp",
        body=ocsp.OCSPRequestBuilder()
        .add_certificate(leaf, ca.issuing_certificate, SHA1)
        .build()
        .public_bytes(serialization.Encoding.DER),
        headers={"Content-Type": "application/ocsp-request"},
    )
    assert response.status == 503
    assert response.header("Retry-After")


def test_the_responder_key_decrypts_only_in_its_own_context(svc, ca, clock):
    record, _ = ensure_ocsp_responder(svc)
    key_id = svc.settings.key_wrap_key_id
    assert svc.kms.decrypt(key_id, record.wrapped_private_key, responder_key_context(record.serial_number))
    with pytest.raises(DecryptionRefused):
        svc.kms.decrypt(key_id, record.wrapped_private_key, responder_key_context(record.serial_number + 1))
    with pytest.raises(DecryptionRefused):
        svc.kms.decrypt(
            key_id,
            record.wrapped_private_key,
            {"purpose": "subscriber-key", "account_id": "a", "credential_id": "c"},
        )


def test_the_daily_schedule_and_the_admin_command_renew(gateway, svc, ca, clock, capsys):
    # The `ca` fixture made a responder (as bootstrap-ca does): 21 days on, it is due.
    assert gateway.invoke("OcspResponderFunction", load_event("reconciler_schedule.json"))["renewed"] is False
    clock.at += timedelta(days=21)
    result = gateway.invoke("OcspResponderFunction", load_event("reconciler_schedule.json"))
    assert result["renewed"] is True
    assert gateway.invoke("OcspResponderFunction", load_event("reconciler_schedule.json"))["renewed"] is False
    assert main(["renew-ocsp-responder", "--force"]) == 0
    assert '"renewed": true' in capsys.readouterr().out


def test_a_presigned_serial_is_good_until_the_reconciler_revokes_it(svc, gateway, ca, clock):
    ensure_ocsp_responder(svc)
    serial = new_serial_number()
    not_after = certificate_validity(clock.now())[1]
    svc.store.put_pre_signing_record(
        PreSigningRecord(serial, "cred_x", "acct_x", "00" * 32, not_after, clock.now())
    )
    assert _ask(gateway, ca, serial).certificate_status == ocsp.OCSPCertStatus.GOOD
    clock.at = clock.now() + GRACE + timedelta(seconds=1)
    assert reconcile_presigned(svc.store, svc.clock).revoked == [format(serial, "x")]
    answer = _ask(gateway, ca, serial)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason == x509.ReasonFlags.cessation_of_operation
    # The same helper put it in its partition's CRL index.
    entries = svc.store.crl_entries(crl_partition(not_after))
    assert [e.serial_number for e in entries] == [serial]
