"""Evidence by default (issue 14, item 2): every signature `POST /v1/signatures` returns carries an
RFC 3161 time-stamp token from our TSA over its signature value and the OCSP answer for its
certificate at signing time: inside the CMS (signatureTimeStampToken unsigned attribute, CAdES-T;
RevocationInfoChoice other, RFC 5940), beside a raw signature. Judged by openssl (cms, ts, ocsp)
and by pyHanko's CMS validation with fetching disabled; the tokens are recorded with the commit
that releases them, and a fault before it records none."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, crl, ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fincert.adapters.dynamodb import keys
from fincert.domain.status_records import SerialStatus
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from tests.support.customers import connected
from tests.support.ocsp import ocsp_request
from tests.support.table import table_items
from tests.support.verifiers import openssl_cms_verify

CONTENT = "계약: 전자금융거래 기본약관 동의 2026-11-30"


def sign(customer, formats: list[str], contents: list[dict] | None = None) -> dict:
    response = customer.sign_contents(contents or [{"text": CONTENT}], formats, "contract")
    assert response.status == 201, response.body
    return response.json()


def evidence_of(cms_der: bytes) -> tuple[cms.SignerInfo, bytes, bytes]:
    """(the signer, its signature time-stamp token, the OCSP response in the revocation info)."""
    signed_data = cms.ContentInfo.load(cms_der)["content"]
    signer = signed_data["signer_infos"][0]
    (token,) = [
        a["values"][0].dump()
        for a in signer["unsigned_attrs"]
        if a["type"].native == "signature_time_stamp_token"
    ]
    (choice,) = list(signed_data["crls"])
    assert choice.name == "other" and choice.chosen["other_rev_info_format"].dotted == "1.3.6.1.5.5.7.16.2"
    return signer, token, choice.chosen["other_rev_info"].dump()


def openssl(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True, check=False)


def write_trust(directory: Path, ca, svc) -> list[str]:
    tsa = svc.timestamps.certificate()
    (directory / "root.pem").write_bytes(ca.root_certificate.public_bytes(Encoding.PEM))
    (directory / "issuing.pem").write_bytes(ca.issuing_certificate.public_bytes(Encoding.PEM))
    (directory / "untrusted.pem").write_bytes(
        ca.issuing_certificate.public_bytes(Encoding.PEM) + tsa.public_bytes(Encoding.PEM)
    )
    return ["-CAfile", "root.pem", "-untrusted", "untrusted.pem"]


def assert_token_covers(directory: Path, trust: list[str], token: bytes, signature_value: bytes) -> None:
    (directory / "token.der").write_bytes(token)
    digest = hashlib.sha256(signature_value).hexdigest()
    checked = openssl(directory, "ts", "-verify", "-digest", digest, "-token_in", "-in", "token.der", *trust)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stdout + checked.stderr


def assert_ocsp_good(directory: Path, response: bytes, certificate_pem: str) -> None:
    (directory / "ocsp.der").write_bytes(response)
    (directory / "leaf.pem").write_text(certificate_pem)
    answer = openssl(
        directory,
        "ocsp",
        "-respin",
        "ocsp.der",
        "-CAfile",
        "root.pem",
        "-verify_other",
        "issuing.pem",
        "-issuer",
        "issuing.pem",
        "-cert",
        "leaf.pem",
        "-no_nonce",
    )
    assert answer.returncode == 0 and "Response verify OK" in answer.stderr, answer.stdout + answer.stderr
    assert "leaf.pem: good" in answer.stdout


@pytest.mark.parametrize("signature_format", ["cms_attached", "cms_detached"])
def test_a_cms_carries_its_time_stamp_and_ocsp_answer_and_still_verifies(
    api, svc, ca, tmp_path, signature_format
):
    customer = connected(api)
    answer = sign(customer, [signature_format])
    entry = answer["contents"][0]["signatures"][0]
    assert (entry["timestamp_token"], entry["ocsp_response"]) == (None, None), "a CMS carries them inside"
    der = base64.b64decode(entry["signature"])
    detached = signature_format == "cms_detached"
    verified = openssl_cms_verify(tmp_path, der, answer["chain_pem"], CONTENT.encode() if detached else None)
    assert verified.returncode == 0, verified.stderr
    signer, token, response = evidence_of(der)
    trust = write_trust(tmp_path, ca, svc)
    assert_token_covers(tmp_path, trust, token, signer["signature"].native)
    assert_ocsp_good(tmp_path, response, answer["certificate_pem"])


def test_a_raw_signature_gets_its_evidence_beside_it(api, svc, ca, tmp_path):
    customer = connected(api, key_algorithm="EC_P256")
    answer = sign(customer, ["raw"])
    entry = answer["contents"][0]["signatures"][0]
    trust = write_trust(tmp_path, ca, svc)
    assert_token_covers(
        tmp_path, trust, base64.b64decode(entry["timestamp_token"]), base64.b64decode(entry["signature"])
    )
    assert_ocsp_good(tmp_path, base64.b64decode(entry["ocsp_response"]), answer["certificate_pem"])


def test_pyhanko_validates_the_cms_and_its_time_stamp_offline(api, svc, ca):
    customer = connected(api)
    answer = sign(customer, ["cms_detached"])
    der = base64.b64decode(answer["contents"][0]["signatures"][0]["signature"])
    signed_data = cms.ContentInfo.load(der)["content"]
    _, _, embedded = evidence_of(der)
    tsa = svc.timestamps.certificate()
    # The TSA certificate's own status, as a relying party would have fetched it once.
    tsa_status = svc.revocation_status.ocsp(ocsp_request(tsa, ca.issuing_certificate))

    # The issuing CA's status: the root's CRL, as a relying party fetches it once.
    root_crl = crl.CertificateList.load(svc.revocation_status.root_crl())

    def context(ocsps: list[bytes]) -> ValidationContext:
        return ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))],
            other_certs=[asn1_x509.Certificate.load(ca.issuing_certificate.public_bytes(Encoding.DER))],
            ocsps=[ocsp.OCSPResponse.load(d) for d in ocsps],
            crls=[root_crl],
            revocation_mode="hard-fail",
            allow_fetching=False,
        )

    status = asyncio.run(
        async_validate_detached_cms(
            CONTENT.encode(),
            signed_data,
            signer_validation_context=context([embedded]),
            ts_validation_context=context([tsa_status]),
        )
    )
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.timestamp_validity is not None, "pyHanko found the signature time-stamp"
    assert status.timestamp_validity.intact and status.timestamp_validity.valid
    assert status.timestamp_validity.trusted, status.pretty_print_details()


def test_every_signature_gets_its_own_token_recorded_with_the_commit(api, aws_calls, bank):
    customer = connected(api)
    assert customer.sign_content("warm the container", "raw").status == 201
    recorded = len(_token_items())
    contents = [{"text": f"{CONTENT} #{n}"} for n in range(3)]
    aws_calls.clear()
    answer = sign(customer, ["cms_attached", "raw"], contents)
    # 5 round trips and one TSA KMS Sign per signature (docs/benchmarks.md).
    assert aws_calls.calls.count("kms.Sign") == 6
    assert len([c for c in aws_calls.calls if not c.startswith("dynamodb.GetItem")]) <= 5 + 6
    items = _token_items()
    assert len(items) == recorded + 6
    serials = set()
    for content in answer["contents"]:
        for entry in content["signatures"]:
            der = base64.b64decode(entry["signature"])
            token = (
                base64.b64decode(entry["timestamp_token"])
                if entry["format"] == "raw"
                else evidence_of(der)[1]
            )
            info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
            serials.add(info["serial_number"].native)
    stored = {int(i["pk"].removeprefix(keys.TIMESTAMP_TOKEN_PREFIX), 16): i for i in items}
    assert serials <= set(stored)
    assert {stored[s]["caller"] for s in serials} == {"customer"}
    assert {stored[s]["institution_id"] for s in serials} == {bank["institution_id"]}


@pytest.mark.parametrize(
    ("operation", "code"),
    [("kms.Sign", "KMSInternalException"), ("dynamodb.TransactWriteItems", "InternalServerError")],
)
def test_a_fault_before_the_commit_records_no_token_and_returns_no_signature(api, aws_calls, operation, code):
    customer = connected(api)
    assert customer.sign_content("warm the container", "raw").status == 201
    recorded = len(_token_items())
    aws_calls.fail_next(operation, code)
    failed = customer.sign_contents([{"text": CONTENT}, {"text": "둘째"}], ["cms_detached"], "contract")
    assert failed.status == 503, failed.body
    assert len(_token_items()) == recorded
    assert customer.sign_contents([{"text": CONTENT}], ["cms_detached"], "contract").status == 201
    assert len(_token_items()) == recorded + 1


def test_the_returned_signature_stays_valid_after_the_certificate_is_revoked(api, svc, clock):
    customer = connected(api)
    answer = sign(customer, ["cms_attached"])
    signature = answer["contents"][0]["signatures"][0]["signature"]
    clock.at += timedelta(days=1)
    serial = x509.load_pem_x509_certificate(answer["certificate_pem"].encode()).serial_number
    assert svc.store.set_serial_status(serial, SerialStatus.REVOKED, at=clock.at, reason="keyCompromise")
    body = api.post("/v1/signatures/verify", {"signature": signature, "format": "cms_attached"}).json()
    assert (body["valid"], body["certificate_status"], body["reasons"]) == (True, "revoked", [])


def test_an_attached_signature_of_the_largest_content_fits_the_verify_call(api):
    customer = connected(api)
    at_limit = "가" * 2730 + "xx"  # 8192 bytes of UTF-8
    answer = sign(customer, ["cms_attached"], [{"text": at_limit}])
    der = base64.b64decode(answer["contents"][0]["signatures"][0]["signature"])
    assert len(der) < 20_000, len(der)
    body = {"signature": base64.b64encode(der).decode(), "format": "cms_attached", "content": at_limit}
    verified = api.post("/v1/signatures/verify", body)
    assert verified.status == 200, verified.body
    assert verified.json()["valid"] is True
    too_big = api.post("/v1/signatures/verify", {"signature": "A" * (64 * 1024)})
    assert too_big.status == 413


def _token_items() -> list[dict]:
    return [i for i in table_items() if i["pk"].startswith(keys.TIMESTAMP_TOKEN_PREFIX)]
