"""End to end: PAdES long-term signatures through CSC. pyHanko's CSCSigner signs through /csc/v1
with the stack's TSA (the URL CSC `info` names in x-fincert-tsa-url) as its timestamper and the
OCSP/CRL answers it fetches from the stack's /pki embedded (B-LT); a document timestamp from the
same TSA makes it B-LTA. pyHanko's AdES validator must then accept the signature, and still accept
it once the signer's certificate is revoked, validating later with fetching disabled: the
evidence in the PDF alone must suffice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from io import BytesIO

import aiohttp
import pytest
import requests
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.report import AdESStatus
from pyhanko.sign.signers.csc_signer import CSCServiceSessionInfo, CSCSigner, fetch_certs_in_csc_credential
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.errors import RevokedError
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from tests.support.csc_client import PinAuthorization, blank_pdf, sign_with_csc
from tests.support.customers import Customer, connected
from tests.support.stack import RunningStack, served_root

pytestmark = pytest.mark.e2e


def tsa_url(stack: RunningStack) -> str:
    response = requests.post(stack.url + "/csc/v1/info", json={}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["x-fincert-tsa-url"]


def root_of(stack: RunningStack) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(served_root(stack).public_bytes(Encoding.DER))


async def sign_b_lt_then_b_lta(customer: Customer, pdf: bytes, url: str) -> tuple[bytes, bytes]:
    session_info = CSCServiceSessionInfo(
        service_url=customer.stack.url, credential_id=customer.credential_id, oauth_token=customer.token
    )
    # Signing requires revocation info for every certificate (as B-LT must embed it) and fetches
    # it over HTTP from the URLs our certificates name.
    signing_context = ValidationContext(
        trust_roots=[root_of(customer.stack)], allow_fetching=True, revocation_mode="require"
    )
    async with aiohttp.ClientSession() as http:
        timestamper = HTTPTimeStamper(
            url, headers={"Authorization": f"Bearer {customer.token}"}, session=http
        )
        credential_info = await fetch_certs_in_csc_credential(http, session_info)
        authorization = PinAuthorization(session_info, credential_info, http, customer.pin)
        signer = CSCSigner(http, authorization)
        b_lt = await signers.async_sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf)),
            signers.PdfSignatureMetadata(
                field_name="Signature1",
                md_algorithm="sha256",
                subfilter=fields.SigSeedSubFilter.PADES,
                embed_validation_info=True,
                validation_context=signing_context,
            ),
            signer=signer,
            timestamper=timestamper,
        )
        lt = b_lt.getvalue()
        # B-LTA: the TSA's own revocation info into the DSS, then a document timestamp over it all.
        b_lta = await signers.PdfTimeStamper(timestamper).async_timestamp_pdf(
            IncrementalPdfFileWriter(BytesIO(lt)), "sha256", validation_context=signing_context
        )
        return lt, b_lta.getvalue()


def ades_lta(stack: RunningStack, pdf: bytes, at: datetime, fetching: bool):
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[root_of(stack)]),
        revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
    )
    rule = RevinfoOnlineFetchingRule.ALWAYS_FETCH if fetching else RevinfoOnlineFetchingRule.LOCAL_ONLY
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=rule),
        )
    )
    (embedded,) = PdfFileReader(BytesIO(pdf)).embedded_regular_signatures
    timing = ValidationTimingInfo(validation_time=at, best_signature_time=at, point_in_time_validation=False)
    return asyncio.run(ades_lta_validation(embedded, spec, timing_info=timing))


def test_a_csc_signed_pdf_with_our_tsa_is_b_lta_and_survives_the_signers_revocation(stack):
    customer = connected(stack, key_algorithm="EC_P256")
    lt, lta = asyncio.run(sign_b_lt_then_b_lta(customer, blank_pdf(), tsa_url(stack)))

    reader = PdfFileReader(BytesIO(lta))
    assert [s.field_name for s in reader.embedded_regular_signatures] == ["Signature1"]
    assert len(reader.embedded_timestamp_signatures) == 1, "B-LTA: one document timestamp"
    assert "/DSS" in reader.root, "validation info embedded"

    now = datetime.now(UTC)
    before = ades_lta(stack, lta, now, fetching=True)
    assert before.ades_subindic.status == AdESStatus.PASSED, before.ades_subindic
    assert before.api_status is not None and before.api_status.bottom_line
    assert before.oldest_evidence_record_timestamp is not None

    # Revoked through the API: a new certificate for the same customer supersedes the old one.
    signer_certificate = before.api_status.signing_cert
    customer.issue("EC_P256")
    assert_revoked_now(stack, signer_certificate)

    # Validated later, past the revocation, from the PDF alone: the OCSP answer embedded at signing
    # time and the signature's time-stamp (before the revocation) carry it. Within the embedded
    # OCSP answers' validity (an hour): past that the last document time-stamp needs fresh
    # revocation info for the TSA (or a newer archival time-stamp), which is PAdES-LTA's design.
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert_b_lt_from_its_dss_alone(stack, lt)
    after = ades_lta(stack, lta, later, fetching=False)
    assert after.ades_subindic.status == AdESStatus.PASSED, after.ades_subindic
    assert after.api_status is not None and after.api_status.bottom_line
    assert after.oldest_evidence_record_timestamp is not None


def assert_b_lt_from_its_dss_alone(stack: RunningStack, pdf: bytes) -> None:
    """B-LT as pyHanko's former validate_pdf_ltv_signature(PADES_LT) judged it (removed from
    pyHanko 0.38, which has only the AdES processes): the signature validated at the time its
    time-stamp proves, with nothing but the certificates, OCSP answers and CRLs in the DSS. The
    AdES LTA process wants a document time-stamp for the CAs' proof of existence, which a B-LT
    signature does not have; it judges the B-LTA file above."""
    reader = PdfFileReader(BytesIO(pdf))
    (embedded,) = reader.embedded_regular_signatures
    (token,) = [
        attr["values"][0]
        for attr in embedded.signer_info["unsigned_attrs"]
        if attr["type"].native == "signature_time_stamp_token"
    ]
    signed_at = token["content"]["encap_content_info"]["content"].parsed["gen_time"].native

    def dss_only() -> ValidationContext:
        return DocumentSecurityStore.read_dss(reader).as_validation_context(
            {
                "trust_roots": [root_of(stack)],
                "allow_fetching": False,
                "revocation_mode": "hard-fail",
                "moment": signed_at,
                "retroactive_revinfo": True,
            }
        )

    status = validate_pdf_signature(embedded, dss_only(), ts_validation_context=dss_only())
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted


def assert_revoked_now(stack: RunningStack, certificate: asn1_x509.Certificate) -> None:
    """The stack's own OCSP responder, fetched by certvalidator, calls the certificate revoked."""
    context = ValidationContext(trust_roots=[root_of(stack)], allow_fetching=True, revocation_mode="require")
    with pytest.raises(RevokedError):
        asyncio.run(CertificateValidator(certificate, validation_context=context).async_validate_usage(set()))


def test_without_the_embedded_evidence_the_same_check_does_not_pass(stack):
    """The control: a plain B-B signature (no time-stamp, no DSS) from the same stack, judged the
    same way after the same revocation, is not PASSED; the B-LTA result above rests on the evidence."""
    customer = connected(stack, key_algorithm="EC_P256")
    signed, _ = asyncio.run(sign_with_csc(customer, blank_pdf(), prefer_pss=False))
    customer.issue("EC_P256")
    result = ades_lta(stack, signed, datetime.now(UTC) + timedelta(minutes=10), fetching=False)
    assert result.ades_subindic.status != AdESStatus.PASSED
