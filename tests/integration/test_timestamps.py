"""The time-stamping authority (RFC 3161), through the gateway: tokens that openssl accepts
against our chain, a TSA certificate pkilint finds clean, refusals for bad requests (RFC 3161
rejections or 4xx, never 5xx, with no KMS call and no record), the ledger written before the
token is returned, the per-institution limit, and AWS faults that leave no half-recorded token."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from fincert.adapters.dynamodb import keys
from fincert.admin import bootstrap_ca, main
from fincert.settings import get_settings
from fincert.wiring import Services, use_services

from tests.support.customers import connected
from tests.support.ocsp import ocsp_request, openssl_ocsp_status
from tests.support.table import serial_record, table_items
from tests.support.tsa import TIMESTAMP_QUERY, read_reply, timestamp_request
from tests.support.verifiers import assert_pkilint_clean

QUERY = {"Content-Type": TIMESTAMP_QUERY}
POLICY = "1.3.6.1.4.1.32473.1.2"


@pytest.fixture
def tsa(svc, ca):
    # The `ca` fixture bootstraps as fincert-admin bootstrap-ca does: the TSA is there already.
    record, created = svc.ensure_timestamp_authority()
    assert not created
    return x509.load_der_x509_certificate(record.certificate_der)


def stamp(api, request: bytes, **kw):
    return api.post("/v1/timestamps", body=request, headers=QUERY, **kw)


def token_items() -> list[dict]:
    return [item for item in table_items() if item["pk"].startswith(keys.TIMESTAMP_TOKEN_PREFIX)]


def openssl(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True, check=False)


def write_chain(directory: Path, ca, tsa: x509.Certificate) -> None:
    (directory / "root.pem").write_bytes(ca.root_certificate.public_bytes(Encoding.PEM))
    (directory / "untrusted.pem").write_bytes(
        ca.issuing_certificate.public_bytes(Encoding.PEM) + tsa.public_bytes(Encoding.PEM)
    )


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_openssl_verifies_our_tokens_against_our_chain(api, ca, tsa, tmp_path, algorithm):
    data = "이체 확인 10,000원".encode()
    request = timestamp_request(data, algorithm=algorithm, nonce=0x1234_5678_9ABC_DEF0)
    response = stamp(api, request)
    assert response.status == 200
    assert response.header("Content-Type") == "application/timestamp-reply"
    (tmp_path / "reply.tsr").write_bytes(response.body)
    (tmp_path / "request.tsq").write_bytes(request)
    (tmp_path / "data.bin").write_bytes(data)
    write_chain(tmp_path, ca, tsa)

    text = openssl(tmp_path, "ts", "-reply", "-in", "reply.tsr", "-text")
    assert text.returncode == 0, text.stderr
    assert "Status: Granted." in text.stdout
    assert f"Policy OID: {POLICY}" in text.stdout
    assert f"Hash Algorithm: {algorithm}" in text.stdout
    assert "Nonce: 0x123456789ABCDEF0" in text.stdout
    assert "Accuracy: 0x01 seconds" in text.stdout
    assert "TSA: DirName:/C=KR/O=fincert-cloud/CN=fincert-cloud Time-Stamping Authority" in text.stdout

    trust = ["-CAfile", "root.pem", "-untrusted", "untrusted.pem"]
    # Against the request (imprint, nonce, policy) and against the data itself.
    by_query = openssl(tmp_path, "ts", "-verify", "-queryfile", "request.tsq", "-in", "reply.tsr", *trust)
    assert by_query.returncode == 0 and "Verification: OK" in by_query.stdout, by_query.stderr
    by_data = openssl(tmp_path, "ts", "-verify", "-data", "data.bin", "-in", "reply.tsr", *trust)
    assert by_data.returncode == 0, by_data.stderr
    (tmp_path / "other.bin").write_bytes(data + b"0")
    other = openssl(tmp_path, "ts", "-verify", "-data", "other.bin", "-in", "reply.tsr", *trust)
    assert other.returncode != 0, "a token does not vouch for other data"


def test_the_tsa_certificate_is_lint_clean_and_fit_for_time_stamping(ca, tsa, tmp_path, svc):
    path = tmp_path / "tsa.pem"
    path.write_bytes(tsa.public_bytes(Encoding.PEM))
    assert_pkilint_clean("lint_pkix_cert", str(path))
    tsa.verify_directly_issued_by(ca.issuing_certificate)
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    # Its key is the TSA's KMS key, not the CA's, and the certificate's status is served: its
    # pre-signing record became an issued serial, out of the reconciler's way.
    assert tsa.public_key() != ca.issuing_certificate.public_key()
    record = serial_record(tsa.serial_number)
    assert record["status"] == "issued" and "due_pk" not in record
    answer = svc.revocation_status.ocsp(ocsp_request(tsa, ca.issuing_certificate))
    assert "tsa.pem: good" in openssl_ocsp_status(tmp_path, ca, tsa, answer).replace("leaf.pem", "tsa.pem")


def test_cert_req_decides_whether_the_token_carries_the_tsa_certificate(api, tsa):
    for cert_req, expected in ((True, [tsa.public_bytes(Encoding.DER)]), (False, [])):
        reply = read_reply(stamp(api, timestamp_request(cert_req=cert_req)).body)
        certificates = reply.token["content"]["certificates"]
        carried = [] if certificates.native is None else [c.chosen.dump() for c in certificates]
        assert carried == expected


def test_serials_are_unique_and_each_token_is_recorded_before_it_is_returned(api, tsa, aws, bank):
    imprints, serials = [], []
    for n in range(3):
        data = f"contract {n}".encode()
        reply = read_reply(stamp(api, timestamp_request(data)).body)
        serials.append(reply.tst_info["serial_number"].native)
        imprints.append(hashlib.sha256(data).hexdigest())
    assert len(set(serials)) == 3
    recorded = {int(item["pk"].removeprefix(keys.TIMESTAMP_TOKEN_PREFIX), 16): item for item in token_items()}
    assert sorted(recorded) == sorted(serials)
    for serial, imprint in zip(serials, imprints, strict=True):
        item = recorded[serial]
        assert item["imprint"] == imprint
        assert item["institution_id"] == bank["institution_id"]
        assert item["caller"] == "institution"
        assert item["hash_algorithm"] == "sha256"
        # Kept 5 years and more past the token's time.
        gen_time = datetime.fromisoformat(item["gen_time"])
        assert datetime.fromtimestamp(int(item["expires_at"]), UTC) > gen_time + timedelta(days=5 * 365 + 1)


def test_a_customer_session_may_ask_and_an_anonymous_caller_may_not(api, gateway, tsa, aws):
    customer = connected(api)
    reply = read_reply(stamp(api, timestamp_request(), api_key=customer.token).body)
    assert reply.status == "granted"
    assert token_items()[0]["caller"] == "customer"
    anonymous = gateway.handle("POST", "/v1/timestamps", list(QUERY.items()), timestamp_request())
    assert anonymous.status == 401
    assert len(token_items()) == 1


BAD_REQUESTS = {
    "garbage": (b"\x30\x03\x02\x01", {"bad_data_format"}),
    "not DER at all": (b"GET / HTTP/1.1", {"bad_data_format"}),
    "empty": (b"", {"bad_data_format"}),
    "trailing bytes": (timestamp_request() + b"\x00", {"bad_data_format"}),
    "SHA-256 name, SHA-1 length": (timestamp_request(hashed_message=b"\x01" * 20), {"bad_data_format"}),
    "SHA-512 name, SHA-256 length": (
        timestamp_request(algorithm="sha512", hashed_message=b"\x01" * 32),
        {"bad_data_format"},
    ),
    "SHA-1": (timestamp_request(algorithm="sha1"), {"bad_alg"}),
    "MD5": (timestamp_request(algorithm="md5"), {"bad_alg"}),
    "another policy": (timestamp_request(policy="1.3.6.1.4.1.32473.9.9"), {"unaccepted_policy"}),
    "an extension": (
        timestamp_request(extensions=[{"extn_id": "1.3.6.1.4.1.32473.7", "extn_value": b"\x05\x00"}]),
        {"unaccepted_extensions"},
    ),
    "a 300-bit nonce": (timestamp_request(nonce=1 << 300), {"bad_data_format"}),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_requests_get_an_rfc_3161_rejection_with_no_kms_call_and_no_record(
    api, tsa, aws, aws_calls, name
):
    request, failure = BAD_REQUESTS[name]
    aws_calls.clear()
    response = stamp(api, request)
    assert response.status == 200
    reply = read_reply(response.body)
    assert (reply.status, reply.failure, reply.token) == ("rejection", failure, None)
    assert not [call for call in aws_calls.calls if call.startswith("kms.")]
    assert token_items() == []


def test_openssl_reads_a_rejection(api, tsa, tmp_path):
    (tmp_path / "reply.tsr").write_bytes(stamp(api, timestamp_request(algorithm="sha1")).body)
    text = openssl(tmp_path, "ts", "-reply", "-in", "reply.tsr", "-text")
    assert text.returncode == 0, text.stderr
    assert "Status: Rejected." in text.stdout
    assert "Failure info: unrecognized or unsupported algorithm identifier" in text.stdout


def test_oversized_and_mistyped_bodies_get_a_4xx(api, tsa, aws):
    too_big = stamp(api, b"\x30" * 1025)
    assert too_big.status == 413
    json_body = api.post(
        "/v1/timestamps", body=timestamp_request(), headers={"Content-Type": "application/json"}
    )
    assert json_body.status == 415
    assert token_items() == []


def test_the_per_institution_limit_is_counted_before_kms_signs(api, tsa, aws, aws_calls, monkeypatch):
    monkeypatch.setenv("TIMESTAMPS_PER_INSTITUTION_PER_MINUTE", "2")
    from fincert.wiring import services

    use_services(Services(get_settings(), clients=services().clients, clock=services().clock))
    assert [read_reply(stamp(api, timestamp_request()).body).status for _ in range(2)] == ["granted"] * 2
    aws_calls.clear()
    refused = stamp(api, timestamp_request())
    assert refused.status == 429
    assert refused.json()["error"]["code"] == "timestamp_rate_limited"
    assert refused.header("Retry-After")
    assert "kms.Sign" not in aws_calls.calls
    assert len(token_items()) == 2


def test_a_fault_at_each_aws_call_leaves_no_half_recorded_token(api, tsa, aws, aws_calls):
    # Warm: the TSA record is read once per container; then count the calls of one token.
    assert read_reply(stamp(api, timestamp_request()).body).status == "granted"
    aws_calls.clear()
    assert read_reply(stamp(api, timestamp_request()).body).status == "granted"
    flow = [call for call in aws_calls.calls if not call.startswith("dynamodb.GetItem")]
    assert flow == ["dynamodb.UpdateItem", "kms.Sign", "dynamodb.PutItem"], aws_calls.calls
    before = len(token_items())
    for operation in flow:
        aws_calls.clear()
        aws_calls.fail_next(
            operation, "KMSInternalException" if operation == "kms.Sign" else "InternalServerError"
        )
        failed = stamp(api, timestamp_request())
        assert failed.status == 503, (operation, failed.status, failed.body)
        assert failed.header("Retry-After")
        assert len(token_items()) == before, f"a fault at {operation} recorded a token"
    # And the service still works.
    assert read_reply(stamp(api, timestamp_request()).body).status == "granted"
    assert len(token_items()) == before + 1


def test_a_kms_fault_gives_the_rate_limit_slot_back(api, tsa, aws, aws_calls, bank):
    aws_calls.fail_next("kms.Sign", "KMSInternalException")
    assert stamp(api, timestamp_request()).status == 503
    counters = [item for item in table_items() if item["pk"] == f"RATE#timestamp#{bank['institution_id']}"]
    assert [int(item["count"]) for item in counters] == [0]


def test_upgrade_creates_the_tsa_on_an_existing_deployment_once(svc, capsys):
    bootstrap_ca(svc)  # a deployment bootstrapped before the TSA (and the OCSP responder) existed
    assert main(["upgrade"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["tsa_created"] is True
    assert main(["upgrade"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert first["ocsp_responder_renewed"] is True
    assert second == first | {"tsa_created": False, "ocsp_responder_renewed": False}
    record = svc.timestamp_store.get_timestamp_authority()
    assert format(record.serial_number, "x") == first["tsa_serial"]


def test_the_token_signature_is_the_tsa_keys_own(api, tsa):
    token = read_reply(stamp(api, timestamp_request()).body).token
    signer = token["content"]["signer_infos"][0]
    assert signer["sid"].chosen["serial_number"].native == tsa.serial_number
    attributes = {a["type"].native for a in signer["signed_attrs"]}
    assert {"content_type", "message_digest", "signing_certificate_v2"} <= attributes
    assert isinstance(token, cms.ContentInfo)
