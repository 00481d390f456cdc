"""Revocation status served by the PKI function (OCSP and CRLs), through the local gateway
against moto, judged by independent tools: `openssl ocsp`, `openssl verify -crl_check`,
pkilint's lint_ocsp_response / lint_crl, and pyhanko-certvalidator with hard-fail revocation.

Certificates are revoked the way the service revokes them: a reissue supersedes the previous
certificate (commit_issuance), and the adapter helper every status change goes through
(DynamoStore.set_serial_status) suspends, restores and revokes."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import urllib.parse
from datetime import timedelta

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from fincert.adapters.dynamodb import keys
from fincert.admin import ensure_ocsp_responder
from fincert.crl_partitions import crl_partition
from fincert.crypto.kms_keys import KMS_RAW_MESSAGE_LIMIT
from fincert.crypto.x509_profile import new_serial_number
from fincert.domain.enrollment_records import PreSigningRecord
from fincert.domain.revocation_status import CRL_REFRESH
from fincert.domain.status_records import SerialStatus
from fincert.wiring import services
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import RevokedError

from tests.support.customers import issue
from tests.support.in_process import Api
from tests.support.ocsp import SHA1, ca_files, leaf_of, ocsp_request, openssl, openssl_ocsp_status
from tests.support.people import ENROLLMENT
from tests.support.table import typed_key
from tests.support.verifiers import assert_pkilint_clean

OCSP_TYPE = {"Content-Type": "application/ocsp-request"}


@pytest.fixture
def svc(clock):
    """The services the gateway's handlers use, with the test's fixed clock."""
    return services()


@pytest.fixture
def responder(svc, ca, clock):
    record, _ = ensure_ocsp_responder(svc)
    return record


@pytest.fixture
def anonymous(gateway) -> Api:
    return Api(gateway)


def _post(api: Api, der: bytes, headers=OCSP_TYPE):
    return api.request("POST", "/pki/ocsp", body=der, headers=headers)


def _ask(api: Api, leaf, ca, **kw) -> ocsp.OCSPResponse:
    response = _post(api, ocsp_request(leaf, ca.issuing_certificate, **kw))
    assert response.status == 200, response.body
    assert response.header("Content-Type") == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(response.body)


def _revoke(svc, serial: int, status=SerialStatus.REVOKED, reason="keyCompromise") -> None:
    assert svc.store.set_serial_status(serial, status, at=svc.clock.now(), reason=reason)


# --- OCSP -----------------------------------------------------------------------------------


def test_openssl_reads_good_then_revoked_after_a_reissue(api, anonymous, ca, responder, tmp_path):
    first = leaf_of(issue(api))
    good = openssl_ocsp_status(
        tmp_path, ca, first, _post(anonymous, ocsp_request(first, ca.issuing_certificate)).body
    )
    assert good.splitlines()[0] == "leaf.pem: good"

    issue(api)  # the same customer again: the first certificate is superseded at once
    revoked = openssl_ocsp_status(
        tmp_path, ca, first, _post(anonymous, ocsp_request(first, ca.issuing_certificate)).body
    )
    lines = [line.strip() for line in revoked.splitlines()]
    assert lines[0] == "leaf.pem: revoked"
    assert "Reason: superseded" in lines


def _unknown_request(ca, serial: int = 12345678901234567890) -> bytes:
    return (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(*_hashes(ca.issuing_certificate), serial_number=serial, algorithm=SHA1)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )


def test_unknown_for_a_serial_we_never_issued(anonymous, ca, responder, tmp_path):
    body = _post(anonymous, _unknown_request(ca)).body
    response = ocsp.load_der_ocsp_response(body)
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    status = openssl_ocsp_status(tmp_path, ca, None, body, serial=12345678901234567890)
    assert status.splitlines()[0] == "12345678901234567890: unknown"


def _hashes(issuer: x509.Certificate, algorithm=None):
    from fincert.crypto.ocsp import issuer_hashes

    return issuer_hashes(issuer, algorithm or SHA1)


def test_suspension_is_revoked_certificate_hold_and_restore_is_good_again(api, anonymous, svc, ca, responder):
    leaf = leaf_of(issue(api))
    _revoke(svc, leaf.serial_number, SerialStatus.SUSPENDED, reason=None)
    held = _ask(anonymous, leaf, ca)
    assert held.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert held.revocation_reason == x509.ReasonFlags.certificate_hold

    assert svc.store.set_serial_status(
        leaf.serial_number, SerialStatus.ISSUED, at=svc.clock.now(), only_from=(SerialStatus.SUSPENDED,)
    )
    assert _ask(anonymous, leaf, ca).certificate_status == ocsp.OCSPCertStatus.GOOD


def test_nonce_is_echoed_and_the_request_hash_algorithm_kept(api, anonymous, ca, responder):
    leaf = leaf_of(issue(api))
    nonce = b"\x01" * 16
    response = _ask(anonymous, leaf, ca, nonce=nonce, hash_=hashes.SHA256())
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
    assert isinstance(response.hash_algorithm, hashes.SHA256)
    assert response.serial_number == leaf.serial_number
    assert response.issuer_key_hash == _hashes(ca.issuing_certificate, hashes.SHA256())[1]


def test_responses_come_from_the_delegated_responder_not_a_kms_sign(api, anonymous, ca, responder, aws_calls):
    leaf = leaf_of(issue(api))
    _ask(anonymous, leaf, ca)  # the first query of the container decrypts the responder key
    aws_calls.clear()
    response = _ask(anonymous, leaf, ca)
    # One round trip per query: the serial's record. No KMS call at all.
    assert aws_calls.calls == ["dynamodb.GetItem"]
    signer = response.certificates[0]
    assert signer.serial_number == responder.serial_number
    assert (
        x509.ExtendedKeyUsageOID.OCSP_SIGNING
        in signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    signer.verify_directly_issued_by(ca.issuing_certificate)


def test_get_requests_with_and_without_url_encoding(api, anonymous, ca, responder):
    leaf = leaf_of(issue(api))
    der = ocsp_request(leaf, ca.issuing_certificate)
    encoded = base64.b64encode(der).decode()
    for path in (urllib.parse.quote(encoded, safe=""), encoded):
        response = anonymous.get(f"/pki/ocsp/{path}")
        assert response.status == 200, response.body
        answer = ocsp.load_der_ocsp_response(response.body)
        assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
        assert answer.serial_number == leaf.serial_number


def test_pkilint_accepts_served_good_revoked_and_unknown_responses(
    api, anonymous, svc, ca, responder, tmp_path
):
    leaf = leaf_of(issue(api))
    good = _post(anonymous, ocsp_request(leaf, ca.issuing_certificate)).body
    _revoke(svc, leaf.serial_number)
    revoked = _post(anonymous, ocsp_request(leaf, ca.issuing_certificate)).body
    unknown = _post(anonymous, _unknown_request(ca)).body
    for name, der in {"good": good, "revoked": revoked, "unknown": unknown}.items():
        (tmp_path / f"{name}.der").write_bytes(der)
        assert_pkilint_clean("lint_ocsp_response", str(tmp_path / f"{name}.der"))


# --- bad input: 4xx or an OCSP error response, never a 5xx, never a KMS Sign ------------------


def _unsuccessful(response) -> ocsp.OCSPResponseStatus:
    assert response.status == 200, response.body
    return ocsp.load_der_ocsp_response(response.body).response_status


def test_bad_requests_get_ocsp_errors_or_4xx_and_nothing_is_signed(api, anonymous, ca, responder, aws_calls):
    leaf = leaf_of(issue(api))
    good = ocsp_request(leaf, ca.issuing_certificate)
    foreign = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(b"\x00" * 20, b"\x11" * 20, leaf.serial_number, SHA1)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    aws_calls.clear()
    malformed = ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert _unsuccessful(_post(anonymous, b"\x30\x03\x02\x01")) == malformed  # truncated
    assert _unsuccessful(_post(anonymous, good[:-5])) == malformed
    assert _unsuccessful(_post(anonymous, b"garbage \xff\xfe not DER")) == malformed
    assert _unsuccessful(_post(anonymous, b"")) == malformed
    assert _unsuccessful(_post(anonymous, foreign)) == ocsp.OCSPResponseStatus.UNAUTHORIZED
    assert _unsuccessful(anonymous.get("/pki/ocsp/not*base64!")) == malformed
    assert _unsuccessful(anonymous.get("/pki/ocsp/" + base64.b64encode(b"junk").decode())) == malformed

    too_large = _post(anonymous, b"\x30" * 5000)
    assert too_large.status == 413
    assert too_large.json()["error"]["code"] == "payload_too_large"
    too_long = anonymous.get("/pki/ocsp/" + "A" * 20000)
    assert too_long.status == 413
    wrong_type = _post(anonymous, good, headers={"Content-Type": "application/json"})
    assert wrong_type.status == 415
    assert wrong_type.json()["error"]["code"] == "unsupported_media_type"
    # Not one Sign, Encrypt or Decrypt: the foreign issuer is refused before the table is read.
    assert not [c for c in aws_calls.calls if c.startswith("kms.")]


def test_no_responder_is_503_not_500(api, anonymous, ca, svc):
    leaf = leaf_of(issue(api))
    # The `ca` fixture made one, as bootstrap-ca does: a deployment without it is what this is about.
    svc.clients.dynamodb.delete_item(TableName=svc.settings.table_name, Key=typed_key(keys.OCSP_RESPONDER))
    response = _post(anonymous, ocsp_request(leaf, ca.issuing_certificate))
    assert response.status == 503
    assert response.header("Retry-After")


# --- CRLs -----------------------------------------------------------------------------------


def _crl_path(leaf: x509.Certificate) -> str:
    dp = leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    url = dp[0].full_name[0].value
    return "/" + url.split("/", 3)[3]


def test_certificates_name_their_partitions_crl(api, ca):
    leaf = leaf_of(issue(api))
    assert _crl_path(leaf) == f"/pki/crl/{crl_partition(leaf.not_valid_after_utc)}.crl"


def test_openssl_crl_check_good_then_revoked_and_pkilint_clean(api, anonymous, svc, ca, clock, tmp_path):
    first = leaf_of(issue(api))
    path = _crl_path(first)

    def verify() -> subprocess.CompletedProcess:
        response = anonymous.get(path)
        assert response.status == 200, response.body
        assert response.header("Content-Type") == "application/pkix-crl"
        crl = x509.load_der_x509_crl(response.body)
        (tmp_path / "leaf.crl.der").write_bytes(response.body)
        (tmp_path / "leaf.crl.pem").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        root_crl = x509.load_der_x509_crl(anonymous.get("/pki/root.crl").body)
        (tmp_path / "root.crl.pem").write_bytes(root_crl.public_bytes(serialization.Encoding.PEM))
        ca_files(tmp_path, ca, leaf=first)
        return openssl(
            tmp_path,
            "verify",
            "-x509_strict",
            "-crl_check_all",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "-CRLfile",
            "leaf.crl.pem",
            "-CRLfile",
            "root.crl.pem",
            "leaf.pem",
        )

    ok = verify()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert_pkilint_clean("lint_crl", "-t", "CRL", "-p", "PKIX", str(tmp_path / "leaf.crl.der"))

    issue(api)  # supersedes the first certificate
    clock.at = clock.now() + CRL_REFRESH  # the container's CRL is rebuilt after CRL_REFRESH
    revoked = verify()
    assert revoked.returncode != 0
    assert "certificate revoked" in revoked.stdout + revoked.stderr
    crl = x509.load_der_x509_crl((tmp_path / "leaf.crl.der").read_bytes())
    entry = crl.get_revoked_certificate_by_serial_number(first.serial_number)
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.superseded
    )
    assert_pkilint_clean("lint_crl", "-t", "CRL", "-p", "PKIX", str(tmp_path / "leaf.crl.der"))


def test_crl_is_cached_per_container_then_rebuilt(api, anonymous, svc, ca, clock, aws_calls):
    leaf = leaf_of(issue(api))
    path = _crl_path(leaf)
    aws_calls.clear()
    first = anonymous.get(path).body
    assert aws_calls.calls.count("kms.Sign") == 1
    assert anonymous.get(path).body == first  # served from memory: no Sign, no Query
    assert aws_calls.calls.count("kms.Sign") == 1
    _revoke(svc, leaf.serial_number)
    clock.at = clock.now() + CRL_REFRESH
    rebuilt = x509.load_der_x509_crl(anonymous.get(path).body)
    assert aws_calls.calls.count("kms.Sign") == 2
    assert rebuilt.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None
    old_number = x509.load_der_x509_crl(first).extensions.get_extension_for_class(x509.CRLNumber).value
    new_number = rebuilt.extensions.get_extension_for_class(x509.CRLNumber).value
    assert new_number.crl_number > old_number.crl_number


def test_suspended_is_listed_as_certificate_hold_and_leaves_on_restore(api, anonymous, svc, ca, clock):
    leaf = leaf_of(issue(api))
    _revoke(svc, leaf.serial_number, SerialStatus.SUSPENDED, reason=None)
    crl = x509.load_der_x509_crl(anonymous.get(_crl_path(leaf)).body)
    entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.certificate_hold
    )
    svc.store.set_serial_status(leaf.serial_number, SerialStatus.ISSUED, at=svc.clock.now())
    clock.at = clock.now() + CRL_REFRESH
    crl = x509.load_der_x509_crl(anonymous.get(_crl_path(leaf)).body)
    assert crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is None


def test_partitions_outside_the_live_range_and_bad_names_are_404_without_signing(
    anonymous, ca, clock, aws_calls
):
    aws_calls.clear()
    past = crl_partition(clock.now() - timedelta(days=14))
    far = crl_partition(clock.now() + timedelta(days=4 * 366))
    for name in (f"{past}.crl", f"{far}.crl", "2029-w99.crl", "latest.crl", "2029-w47", "..%2Fetc.crl"):
        response = anonymous.get(f"/pki/crl/{name}")
        assert response.status == 404, (name, response.status)
        assert response.json()["error"]["code"] == "crl_not_found"
    assert "kms.Sign" not in aws_calls.calls


def test_root_crl_is_signed_by_the_root_and_clean(anonymous, ca, tmp_path):
    response = anonymous.get("/pki/root.crl")
    assert response.status == 200
    crl = x509.load_der_x509_crl(response.body)
    assert crl.is_signature_valid(ca.root_certificate.public_key())
    assert crl.issuer == ca.root_certificate.subject
    (tmp_path / "root.crl").write_bytes(response.body)
    assert_pkilint_clean("lint_crl", "-t", "CRL", "-p", "PKIX", str(tmp_path / "root.crl"))


# --- pyhanko-certvalidator, hard-fail revocation --------------------------------------------


def _validate(ca, leaf: x509.Certificate, *, crls=(), ocsps=(), moment=None):
    def asn1(cert: x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    context = ValidationContext(
        trust_roots=[asn1(ca.root_certificate)],
        other_certs=[asn1(ca.issuing_certificate)],
        crls=list(crls),
        ocsps=list(ocsps),
        revocation_mode="hard-fail",
        allow_fetching=False,
        moment=moment,
    )
    validator = CertificateValidator(
        asn1(leaf), intermediate_certs=[asn1(ca.issuing_certificate)], validation_context=context
    )
    return asyncio.run(validator.async_validate_usage({"digital_signature"}))


def test_pyhanko_hard_fail_with_ocsp_accepts_good_and_rejects_revoked(api, anonymous, ca, responder):
    first = leaf_of(issue(api))
    root_crl = anonymous.get("/pki/root.crl").body
    good = _post(anonymous, ocsp_request(first, ca.issuing_certificate)).body
    _validate(ca, first, crls=[root_crl], ocsps=[good])

    issue(api, ENROLLMENT)  # supersedes it
    revoked = _post(anonymous, ocsp_request(first, ca.issuing_certificate)).body
    with pytest.raises(RevokedError):
        _validate(ca, first, crls=[root_crl], ocsps=[revoked])


def test_pyhanko_hard_fail_with_crls_accepts_good_and_rejects_revoked(api, anonymous, svc, ca, clock):
    leaf = leaf_of(issue(api))
    root_crl = anonymous.get("/pki/root.crl").body
    _validate(ca, leaf, crls=[root_crl, anonymous.get(_crl_path(leaf)).body])

    _revoke(svc, leaf.serial_number)
    clock.at = clock.now() + CRL_REFRESH
    with pytest.raises(RevokedError):
        _validate(ca, leaf, crls=[root_crl, anonymous.get(_crl_path(leaf)).body], moment=clock.now())


def test_a_large_partition_crl_is_signed_by_kms_as_a_digest(
    api, anonymous, svc, ca, clock, aws_calls, tmp_path
):
    leaf = leaf_of(issue(api))
    for _ in range(150):
        serial = new_serial_number()
        svc.store.put_pre_signing_record(
            PreSigningRecord(serial, "cred_x", "acct_x", "00" * 32, leaf.not_valid_after_utc, clock.now())
        )
        _revoke(svc, serial)
    aws_calls.clear()
    # moto ignores MessageType=DIGEST; the suite runs with fincert_local.moto_fixes' kms_digest
    # correction, without which the signature would not verify and the build would refuse to publish it.
    response = anonymous.get(_crl_path(leaf))
    assert response.status == 200, response.body
    crl = x509.load_der_x509_crl(response.body)
    assert len(crl) == 150
    assert len(crl.tbs_certlist_bytes) > KMS_RAW_MESSAGE_LIMIT
    assert crl.is_signature_valid(ca.issuing_certificate.public_key())
    # One Query of the partition (one page here) and one Sign, whatever the entry count.
    assert aws_calls.calls.count("kms.Sign") == 1
    assert aws_calls.calls.count("dynamodb.Query") == 1
    (tmp_path / "large.crl").write_bytes(response.body)
    assert_pkilint_clean("lint_crl", "-t", "CRL", "-p", "PKIX", str(tmp_path / "large.crl"))
