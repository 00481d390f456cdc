"""OCSP building blocks (fincert.crypto.ocsp), judged by `openssl ocsp` and pkilint's
lint_ocsp_response. The CA is RSA-2048 in moto's KMS, signed through the production adapter."""

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from fincert.crypto.keys import KeyAlgorithm, generate_private_key
from fincert.crypto.kms_keys import kms_private_key
from fincert.crypto.ocsp import (
    OcspMalformed,
    build_response,
    issued_by,
    issuer_hashes,
    parse_request,
    unsuccessful,
)
from fincert.crypto.ocsp_limits import MAX_NONCE_SIZE, MAX_REQUEST_SIZE
from fincert.crypto.x509_profile import (
    build_ocsp_responder_certificate,
    build_root_ca_certificate,
    new_serial_number,
)
from moto import mock_aws

from tests.support.ca_chain import RecordingKms, moto_ca
from tests.support.verifiers import assert_pkilint_clean, pkilint_findings

UTC = dt.UTC
NOW = dt.datetime.now(UTC).replace(microsecond=0)
THIS_UPDATE = NOW - dt.timedelta(minutes=1)
NEXT_UPDATE = THIS_UPDATE + dt.timedelta(hours=12)
REVOKED_AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
# RFC 5019 clients (and openssl by default) name certificates by SHA-1 CertIDs.
SHA1 = hashes.SHA1()  # noqa: S303


@dataclass
class Pki:
    kms: RecordingKms
    root: x509.Certificate
    issuing: x509.Certificate
    issuing_key: object
    root_key: object
    good: x509.Certificate
    revoked: x509.Certificate
    files: Path

    def respond(self, serial_number: int, status: str = "good", cert_id_hash=None, **kw) -> bytes:
        return build_response(
            issuer_certificate=self.issuing,
            responder_key=self.issuing_key,
            serial_number=serial_number,
            cert_id_hash=cert_id_hash or SHA1,
            status=status,
            this_update=kw.pop("this_update", THIS_UPDATE),
            next_update=kw.pop("next_update", NEXT_UPDATE),
            **kw,
        )


def _pem_file(directory: Path, name: str, cert: x509.Certificate) -> None:
    (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    files = tmp_path_factory.mktemp("ocsp")
    with mock_aws():
        ca = moto_ca(
            boto3.client("kms", region_name="ap-northeast-2"), "RSA_2048", NOW - dt.timedelta(days=1)
        )
        pki = Pki(ca.kms, ca.root, ca.issuing, ca.issuing_key, ca.root_key, ca.leaf(), ca.leaf(), files)
        for name in ("root", "issuing", "good", "revoked"):
            _pem_file(files, name, getattr(pki, name))
        yield pki


@pytest.fixture(autouse=True)
def _clear_signs(pki):
    pki.kms.signs.clear()


# --- openssl ---------------------------------------------------------------------------------


def _openssl(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True, check=False)


def _write(directory: Path, name: str, data: bytes) -> str:
    (directory / name).write_bytes(data)
    return name


def _verify_chain(
    pki: Pki, response: str, ca_file: str = "root.pem", request: str | None = None
) -> subprocess.CompletedProcess:
    """Signature, chain and nonce. Without -issuer: openssl must find the signer (the issuing CA,
    from -verify_other), build its chain to the trusted root and check that the signer issued
    what the CertID names. (With -issuer, openssl retries a failed verification trusting the
    issuer outright, which would hide a broken chain.) With `request`, openssl compares the
    response's nonce with the request's."""
    nonce = ["-reqin", request] if request else ["-no_nonce"]
    return _openssl(
        pki.files, "ocsp", "-respin", response, "-CAfile", ca_file, "-verify_other", "issuing.pem", *nonce
    )


def _status(pki: Pki, response: str, *target: str, digest: str = "-sha1") -> subprocess.CompletedProcess:
    """openssl's status summary for `target` (`-cert leaf.pem` or `-serial N`), looked up by the
    CertID openssl computes with `digest`. (openssl ignores -reqin once -cert built a request,
    so the nonce is checked by `_verify_chain` instead.)"""
    return _openssl(
        pki.files,
        "ocsp",
        "-respin",
        response,
        "-CAfile",
        "root.pem",
        "-verify_other",
        "issuing.pem",
        "-no_nonce",
        digest,
        "-issuer",
        "issuing.pem",
        *target,
    )


def _assert_openssl_accepts(pki: Pki, response: str) -> None:
    verify = _verify_chain(pki, response)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Response verify OK" in verify.stderr


def _openssl_time(value: dt.datetime) -> str:
    return f"{value:%b} {value.day:2d} {value:%H:%M:%S %Y} GMT"


# --- responses judged by openssl -------------------------------------------------------------


def test_good_response_verifies_with_openssl(pki):
    name = _write(pki.files, "good.der", pki.respond(pki.good.serial_number))
    _assert_openssl_accepts(pki, name)
    status = _status(pki, name, "-cert", "good.pem")
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.splitlines()[0] == "good.pem: good"
    assert f"This Update: {_openssl_time(THIS_UPDATE)}" in status.stdout
    assert f"Next Update: {_openssl_time(NEXT_UPDATE)}" in status.stdout
    # One KMS Sign, RAW: an OCSP response is far below the 4096-byte limit.
    assert len(pki.kms.signs) == 1
    assert pki.kms.signs[0][1] is False


def test_revoked_response_carries_reason_and_time(pki):
    der = pki.respond(
        pki.revoked.serial_number,
        "revoked",
        revoked_at=REVOKED_AT,
        revocation_reason=x509.ReasonFlags.key_compromise,
    )
    name = _write(pki.files, "revoked.der", der)
    _assert_openssl_accepts(pki, name)
    status = _status(pki, name, "-cert", "revoked.pem")
    assert status.returncode == 0, status.stdout + status.stderr
    lines = [line.strip() for line in status.stdout.splitlines()]
    assert lines[0] == "revoked.pem: revoked"
    assert "Reason: keyCompromise" in lines
    assert f"Revocation Time: {_openssl_time(REVOKED_AT)}" in lines


def test_unknown_response_for_a_serial_never_issued(pki):
    serial = new_serial_number()
    name = _write(pki.files, "unknown.der", pki.respond(serial, "unknown"))
    _assert_openssl_accepts(pki, name)
    status = _status(pki, name, "-serial", str(serial))
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.splitlines()[0] == f"{serial}: unknown"


def test_openssl_finds_no_status_for_another_serial(pki):
    # The negative control of the status check: the answer is about one serial only.
    name = _write(pki.files, "good-only.der", pki.respond(pki.good.serial_number))
    status = _status(pki, name, "-cert", "revoked.pem")
    assert status.returncode != 0
    assert "No Status found" in status.stdout


def test_openssl_rejects_a_tampered_response_and_an_untrusted_root(pki, tmp_path):
    der = bytearray(pki.respond(pki.good.serial_number))
    der[-7] ^= 0x01  # inside the signature
    tampered = _verify_chain(pki, _write(pki.files, "tampered.der", bytes(der)))
    assert tampered.returncode != 0
    assert "Response Verify Failure" in tampered.stderr

    other_key = ec.generate_private_key(ec.SECP256R1())
    other_root = build_root_ca_certificate(signing_key=other_key, not_before=NOW, years=1)
    _pem_file(pki.files, "other-root", other_root)
    name = _write(pki.files, "good2.der", pki.respond(pki.good.serial_number))
    untrusted = _verify_chain(pki, name, ca_file="other-root.pem")
    assert untrusted.returncode != 0
    assert "unable to get local issuer certificate" in untrusted.stderr


def test_unspecified_reason_is_omitted_like_in_the_crl(pki):
    der = pki.respond(
        pki.revoked.serial_number,
        "revoked",
        revoked_at=REVOKED_AT,
        revocation_reason=x509.ReasonFlags.unspecified,
    )
    response = ocsp.load_der_ocsp_response(der)
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is None
    assert response.revocation_time_utc == REVOKED_AT


def test_certificate_hold_is_how_a_suspension_reads(pki):
    der = pki.respond(
        pki.revoked.serial_number,
        "revoked",
        revoked_at=REVOKED_AT,
        revocation_reason=x509.ReasonFlags.certificate_hold,
    )
    status = _status(pki, _write(pki.files, "hold.der", der), "-cert", "revoked.pem")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Reason: certificateHold" in status.stdout


# --- nonce -----------------------------------------------------------------------------------


def _openssl_request(pki: Pki, name: str, *options: str) -> bytes:
    made = _openssl(
        pki.files, "ocsp", *options, "-issuer", "issuing.pem", "-cert", "good.pem", "-reqout", name
    )
    assert made.returncode == 0, made.stderr
    return (pki.files / name).read_bytes()


def test_nonce_is_echoed_and_openssl_nonce_check_passes(pki):
    query = parse_request(_openssl_request(pki, "nonce-req.der"))  # openssl adds a nonce by default
    assert query.nonce is not None and len(query.nonce) == 16
    assert issued_by(query, pki.issuing)
    der = pki.respond(query.serial_number, cert_id_hash=query.hash_algorithm, nonce=query.nonce)
    nonce_ext = ocsp.load_der_ocsp_response(der).extensions.get_extension_for_class(x509.OCSPNonce)
    assert nonce_ext.value.nonce == query.nonce
    assert not nonce_ext.critical

    name = _write(pki.files, "nonce.der", der)
    checked = _verify_chain(pki, name, request="nonce-req.der")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Response verify OK" in checked.stderr
    assert "WARNING" not in checked.stderr
    status = _status(pki, name, "-cert", "good.pem")
    assert status.stdout.splitlines()[0] == "good.pem: good"


def test_openssl_nonce_check_rejects_another_nonce_and_flags_a_missing_one(pki):
    query = parse_request(_openssl_request(pki, "nonce-req2.der"))
    wrong = _write(pki.files, "wrong-nonce.der", pki.respond(query.serial_number, nonce=bytes(16)))
    mismatch = _verify_chain(pki, wrong, request="nonce-req2.der")
    assert mismatch.returncode != 0
    assert "Nonce Verify error" in mismatch.stderr

    missing = _write(pki.files, "no-nonce.der", pki.respond(query.serial_number))
    assert "WARNING: no nonce in response" in _verify_chain(pki, missing, request="nonce-req2.der").stderr


# --- CertID hash algorithms ------------------------------------------------------------------


@pytest.mark.parametrize(("option", "algorithm"), [("-sha1", hashes.SHA1), ("-sha256", hashes.SHA256)])
def test_response_cert_id_repeats_the_request(pki, option, algorithm):
    request_der = _openssl_request(pki, f"req{option}.der", option, "-no_nonce")
    query = parse_request(request_der)
    assert isinstance(query.hash_algorithm, algorithm)
    assert query.serial_number == pki.good.serial_number
    assert query.nonce is None
    assert issued_by(query, pki.issuing)

    der = pki.respond(query.serial_number, cert_id_hash=query.hash_algorithm)
    response = ocsp.load_der_ocsp_response(der)
    assert isinstance(response.hash_algorithm, algorithm)
    assert response.issuer_name_hash == query.issuer_name_hash
    assert response.issuer_key_hash == query.issuer_key_hash
    assert response.serial_number == query.serial_number

    # openssl looks the status up by the CertID it computes with the same digest.
    status = _status(pki, _write(pki.files, f"resp{option}.der", der), "-cert", "good.pem", digest=option)
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.splitlines()[0] == "good.pem: good"


def test_response_shape(pki):
    response = ocsp.load_der_ocsp_response(pki.respond(pki.good.serial_number))
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.signature_hash_algorithm.name == "sha256"
    ski = pki.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    # Responder ID byKey (SHA-1 of the key, RFC 6960 4.2.2.3), no embedded certificates.
    assert response.responder_key_hash == ski.digest
    assert response.responder_name is None
    assert response.certificates == []
    assert response.this_update_utc == THIS_UPDATE
    assert response.next_update_utc == NEXT_UPDATE
    assert len(response.extensions) == 0


def test_times_are_whole_utc_seconds(pki):
    kst = dt.timezone(dt.timedelta(hours=9))
    this_update = dt.datetime(2026, 3, 1, 9, 0, 0, 999_999, tzinfo=kst)
    response = ocsp.load_der_ocsp_response(
        pki.respond(
            pki.good.serial_number, this_update=this_update, next_update=this_update + dt.timedelta(days=1)
        )
    )
    assert response.this_update_utc == dt.datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC)
    assert response.next_update_utc == dt.datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC)


# --- parsing hostile input -------------------------------------------------------------------


def _request(
    serial_number: int, issuing: x509.Certificate, algorithm=None, nonce: bytes | None = None
) -> bytes:
    algorithm = algorithm or SHA1
    name_hash, key_hash = issuer_hashes(issuing, algorithm)
    builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(name_hash, key_hash, serial_number, algorithm)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def test_parse_request_reads_the_cert_id_and_nonce(pki):
    der = _request(pki.good.serial_number, pki.issuing, hashes.SHA256(), nonce=b"\x01" * 32)
    assert len(der) <= MAX_REQUEST_SIZE
    query = parse_request(der)
    assert query.serial_number == pki.good.serial_number
    assert (query.issuer_name_hash, query.issuer_key_hash) == issuer_hashes(pki.issuing, hashes.SHA256())
    assert query.nonce == b"\x01" * 32
    assert parse_request(bytearray(der)) == query


def _with_second_request(pki: Pki) -> bytes:
    made = _openssl(
        pki.files, "ocsp", "-issuer", "issuing.pem", "-cert", "good.pem", "-cert", "revoked.pem",
        "-no_nonce", "-reqout", "multi.der",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return (pki.files / "multi.der").read_bytes()


def test_malformed_requests_are_refused(pki):
    valid = _request(pki.good.serial_number, pki.issuing)
    # 1.3.14.3.2.26 (SHA-1) -> 1.3.14.3.2.27 (dsaWithSHA1): same length, not a hash.
    sha1_oid = bytes.fromhex("06052b0e03021a")
    assert valid.count(sha1_oid) == 1
    bad_hash = valid.replace(sha1_oid, bytes.fromhex("06052b0e03021b"))
    hostile = {
        "empty": b"",
        "garbage": b"GET / HTTP/1.1\r\n\r\n",
        "empty sequence": bytes.fromhex("3000"),
        "no single request": bytes.fromhex("300430023000"),
        "truncated": valid[:-3],
        "trailing data": valid + b"\x00",
        "two single requests": _with_second_request(pki),
        "unsupported hash": bad_hash,
        "oversized nonce": _request(
            pki.good.serial_number, pki.issuing, nonce=b"\x00" * (MAX_NONCE_SIZE + 1)
        ),
        "empty nonce": _request(pki.good.serial_number, pki.issuing, nonce=b""),
        "a certificate": pki.good.public_bytes(serialization.Encoding.DER),
    }
    for what, der in hostile.items():
        with pytest.raises(OcspMalformed):
            parse_request(der)
            pytest.fail(f"{what} was accepted")


def test_parse_request_needs_bytes():
    with pytest.raises(TypeError):
        parse_request("MEIwQDA+")  # type: ignore[arg-type]


def test_issued_by_rejects_foreign_issuers(pki):
    query = parse_request(_request(pki.good.serial_number, pki.issuing))
    assert issued_by(query, pki.issuing)
    # Another CA of ours (the root): another name and key.
    assert not issued_by(query, pki.root)
    # An impostor with the issuing CA's very name but its own key: the key hash tells them apart.
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    impostor = build_root_ca_certificate(
        signing_key=impostor_key, subject=pki.issuing.subject, not_before=NOW
    )
    assert not issued_by(query, impostor)
    sha256_query = parse_request(_request(pki.good.serial_number, pki.issuing, hashes.SHA256()))
    assert issued_by(sha256_query, pki.issuing)
    assert not issued_by(sha256_query, impostor)


# --- refusals before KMS -------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "revoked"},  # no revoked_at
        {"status": "good", "revoked_at": REVOKED_AT},
        {"status": "good", "revocation_reason": x509.ReasonFlags.superseded},
        {
            "status": "revoked",
            "revoked_at": REVOKED_AT,
            "revocation_reason": x509.ReasonFlags.remove_from_crl,
        },
        {"status": "revoked", "revoked_at": NEXT_UPDATE},  # after this_update
        {"status": "valid"},
        {"next_update": THIS_UPDATE},
        {"this_update": dt.datetime(2026, 1, 1)},  # naive
        {"nonce": b""},
        {"nonce": b"\x00" * 33},
        {"cert_id_hash": hashes.MD5()},  # noqa: S303
    ],
)
def test_inconsistent_answers_are_refused_before_kms(pki, overrides):
    with pytest.raises(ValueError):
        pki.respond(pki.good.serial_number, **overrides)
    assert pki.kms.signs == []


def test_a_key_that_is_not_the_issuers_never_reaches_kms(pki):
    with pytest.raises(ValueError, match="does not match"):
        build_response(
            issuer_certificate=pki.issuing,
            responder_key=pki.root_key,
            serial_number=pki.good.serial_number,
            cert_id_hash=SHA1,
            status="good",
            this_update=THIS_UPDATE,
            next_update=NEXT_UPDATE,
        )
    assert pki.kms.signs == []


class _GarbageKms:
    def sign(self, key_id, message, algorithm, *, is_digest=False):
        return b"\x01" * 256


def test_a_signature_that_does_not_verify_is_never_returned(pki):
    broken = kms_private_key(_GarbageKms(), "broken", pki.issuing.public_key())
    with pytest.raises(ValueError, match="does not verify"):
        build_response(
            issuer_certificate=pki.issuing,
            responder_key=broken,
            serial_number=pki.good.serial_number,
            cert_id_hash=SHA1,
            status="good",
            this_update=THIS_UPDATE,
            next_update=NEXT_UPDATE,
        )


# --- unsuccessful responses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected", "openssl_says"),
    [
        ("malformedRequest", ocsp.OCSPResponseStatus.MALFORMED_REQUEST, "malformedrequest (1)"),
        ("internalError", ocsp.OCSPResponseStatus.INTERNAL_ERROR, "internalerror (2)"),
        ("tryLater", ocsp.OCSPResponseStatus.TRY_LATER, "trylater (3)"),
        ("unauthorized", ocsp.OCSPResponseStatus.UNAUTHORIZED, "unauthorized (6)"),
        (ocsp.OCSPResponseStatus.UNAUTHORIZED, ocsp.OCSPResponseStatus.UNAUTHORIZED, "unauthorized (6)"),
    ],
)
def test_unsuccessful_responses(pki, status, expected, openssl_says):
    der = unsuccessful(status)
    assert ocsp.load_der_ocsp_response(der).response_status is expected
    name = _write(pki.files, f"error-{expected.value}.der", der)
    text = _openssl(pki.files, "ocsp", "-respin", name)
    assert text.stdout.strip() == f"Responder Error: {openssl_says}", text.stdout + text.stderr
    assert pki.kms.signs == []  # error responses are unsigned: no KMS call


@pytest.mark.parametrize("status", ["successful", "notAStatus", ocsp.OCSPResponseStatus.SUCCESSFUL])
def test_unsuccessful_needs_an_error_status(status):
    with pytest.raises(ValueError):
        unsuccessful(status)


# --- pkilint ---------------------------------------------------------------------------------


def test_pkilint_accepts_good_revoked_unknown_and_error_responses(pki):
    responses = {
        "lint-good.der": pki.respond(pki.good.serial_number, nonce=b"\x07" * 16),
        "lint-revoked.der": pki.respond(
            pki.revoked.serial_number,
            "revoked",
            cert_id_hash=hashes.SHA256(),
            revoked_at=REVOKED_AT,
            revocation_reason=x509.ReasonFlags.key_compromise,
        ),
        "lint-unknown.der": pki.respond(new_serial_number(), "unknown"),
        "lint-malformed.der": unsuccessful("malformedRequest"),
    }
    for name, der in responses.items():
        assert_pkilint_clean("lint_ocsp_response", str(pki.files / _write(pki.files, name, der)))


def test_pkilint_gate_catches_a_bad_response(pki):
    # A negative control, built around fincert's builder (which refuses this): nextUpdate before
    # thisUpdate. The harness must see what pkilint reports.
    name_hash, key_hash = issuer_hashes(pki.issuing, SHA1)
    bad = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            name_hash,
            key_hash,
            1,
            SHA1,
            ocsp.OCSPCertStatus.GOOD,
            NEXT_UPDATE,
            THIS_UPDATE,
            None,
            None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, pki.issuing)
        .sign(pki.issuing_key, hashes.SHA256())
    )
    path = pki.files / _write(pki.files, "lint-bad.der", bad.public_bytes(serialization.Encoding.DER))
    findings = pkilint_findings("lint_ocsp_response", str(path))
    assert any("pkix.ocsp_negative_validity_period" in f for f in findings), findings


# --- a delegated responder (RFC 6960 4.2.2.2) ------------------------------------------------


def _delegated(pki: Pki, *, ca_key=None, ca_certificate=None):
    key = generate_private_key(KeyAlgorithm.RSA_2048)
    certificate = build_ocsp_responder_certificate(
        ca_key=ca_key or pki.issuing_key,
        ca_certificate=ca_certificate or pki.issuing,
        responder_public_key=key.public_key(),
        not_before=NOW - dt.timedelta(hours=1),
    )
    return key, certificate


def _delegated_response(pki: Pki, key, certificate, serial: int) -> bytes:
    return build_response(
        issuer_certificate=pki.issuing,
        responder_key=key,
        responder_certificate=certificate,
        serial_number=serial,
        cert_id_hash=SHA1,
        status="good",
        this_update=THIS_UPDATE,
        next_update=NEXT_UPDATE,
    )


def test_a_delegated_responder_signs_in_memory_and_openssl_accepts_it(pki):
    key, certificate = _delegated(pki)
    pki.kms.signs.clear()
    der = _delegated_response(pki, key, certificate, pki.good.serial_number)
    assert pki.kms.signs == []  # no KMS Sign per answer
    response = ocsp.load_der_ocsp_response(der)
    assert response.certificates == [certificate]
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert response.responder_key_hash == ski
    name = _write(pki.files, "delegated.der", der)
    _assert_openssl_accepts(pki, name)
    assert _status(pki, name, "-cert", "good.pem").stdout.splitlines()[0] == "good.pem: good"
    assert_pkilint_clean("lint_ocsp_response", str(pki.files / name))


def test_a_responder_the_issuing_ca_did_not_delegate_is_refused(pki):
    # Issued by the root, not by the CA whose certificates it would vouch for.
    key, certificate = _delegated(pki, ca_key=pki.root_key, ca_certificate=pki.root)
    with pytest.raises(ValueError, match="not issued by this CA"):
        _delegated_response(pki, key, certificate, pki.good.serial_number)
    other_key, _ = _delegated(pki)
    _, good_certificate = _delegated(pki)
    with pytest.raises(ValueError, match="does not match"):
        _delegated_response(pki, other_key, good_certificate, pki.good.serial_number)
