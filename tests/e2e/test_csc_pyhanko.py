"""End to end: pyHanko's CSCSigner, an unmodified third-party CSC v1 client, signs a PDF through the
local stack's /csc/v1 endpoints with a customer's session token and PIN, and pyHanko's own
validator finds the signature intact and trusted against the root CA the stack serves."""

from __future__ import annotations

import asyncio
from io import BytesIO

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tests.support.csc_client import blank_pdf, sign_with_csc
from tests.support.customers import Customer, connected
from tests.support.stack import served_root
from tests.support.verifiers import pem_blocks

pytestmark = pytest.mark.e2e


def validation_context(customer: Customer) -> ValidationContext:
    root = asn1_x509.Certificate.load(served_root(customer.stack).public_bytes(Encoding.DER))
    issuing_pem = pem_blocks(customer.issued["chain_pem"])[0].encode()
    _, _, issuing_der = pem.unarmor(issuing_pem)
    # Revocation is soft-fail and nothing is fetched: OCSP is served by another branch's work.
    return ValidationContext(
        trust_roots=[root],
        other_certs=[asn1_x509.Certificate.load(issuing_der)],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


@pytest.mark.parametrize(
    ("key_algorithm", "prefer_pss", "mechanism"),
    [
        ("RSA_2048", False, "sha256_rsa"),
        ("RSA_2048", True, "rsassa_pss"),
        ("EC_P256", False, "sha256_ecdsa"),
    ],
    ids=["rsa-pkcs1v15", "rsa-pss", "ec-p256"],
)
def test_pyhanko_csc_signer_signs_a_pdf_that_pyhanko_validates_as_trusted(
    stack, key_algorithm, prefer_pss, mechanism
):
    customer = connected(stack, key_algorithm=key_algorithm)
    signed, authorization = asyncio.run(sign_with_csc(customer, blank_pdf(), prefer_pss))

    assert len(authorization.authorized) == 1, "one PIN authorization, bound to the one hash signed"
    reader = PdfFileReader(BytesIO(signed))
    (embedded,) = reader.embedded_signatures
    status = validate_pdf_signature(embedded, validation_context(customer))

    assert status.intact, status.pretty_print_details()
    assert status.valid, status.pretty_print_details()
    assert status.trusted, status.pretty_print_details()
    assert status.pkcs7_signature_mechanism == mechanism
    assert status.md_algorithm == "sha256"
    signer_der = status.signing_cert.dump()
    assert signer_der == customer_certificate_der(customer), "signed with the customer's certificate"


def customer_certificate_der(customer: Customer) -> bytes:
    leaf = x509.load_pem_x509_certificate(customer.issued["certificate_pem"].encode())
    return leaf.public_bytes(Encoding.DER)


def test_a_pdf_tampered_after_csc_signing_is_not_intact(stack):
    customer = connected(stack, key_algorithm="EC_P256")
    signed, _ = asyncio.run(sign_with_csc(customer, blank_pdf(), prefer_pss=False))
    reader = PdfFileReader(BytesIO(signed))
    (embedded,) = reader.embedded_signatures
    start, length = embedded.byte_range[0], embedded.byte_range[1]
    # Flip one byte inside the first signed range (the page's content stream), keep the length.
    position = signed.index(b"BT /F1 12 Tf", start, start + length)
    tampered = bytearray(signed)
    tampered[position] = ord("X")
    (tampered_sig,) = PdfFileReader(BytesIO(bytes(tampered))).embedded_signatures
    status = validate_pdf_signature(tampered_sig, validation_context(customer))
    assert not status.intact
    assert not status.bottom_line
