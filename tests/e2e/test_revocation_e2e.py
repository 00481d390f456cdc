"""End to end: relying parties' own tools against the local stack's PKI endpoints over HTTP.
`openssl ocsp -url` queries the responder named in the certificate's AIA, and
`openssl verify -crl_download` fetches the CRL named in its cRLDistributionPoints (and the
root's CRL named in the issuing CA certificate), the way a relying party would."""

from __future__ import annotations

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import AuthorityInformationAccessOID

from tests.support.customers import issue
from tests.support.ocsp import ocsp_status_over_http, openssl, write_issued
from tests.support.people import new_enrollment
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e


def test_openssl_ocsp_and_crl_download_agree_with_the_records(stack: RunningStack, tmp_path):
    body, _ = new_enrollment(name="박지훈")
    leaf = write_issued(tmp_path, issue(stack, body))
    aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    ocsp_url = next(
        d.access_location.value for d in aia if d.access_method == AuthorityInformationAccessOID.OCSP
    )
    assert ocsp_url.startswith(stack.url)

    assert ocsp_status_over_http(tmp_path, ocsp_url)[0] == "leaf.pem: good"
    # The root (a trust anchor) names no CRL of its own; its CRL, which also covers the issuing
    # CA, is given from /pki/root.crl. The leaf's partition CRL is downloaded from its CRL DP.
    root_crl = x509.load_der_x509_crl(stack.get("/pki/root.crl").content)
    (tmp_path / "root.crl.pem").write_bytes(root_crl.public_bytes(serialization.Encoding.PEM))
    verified = openssl(
        tmp_path,
        "verify",
        "-crl_check_all",
        "-crl_download",
        "-CRLfile",
        "root.crl.pem",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "issuing.pem",
        "leaf.pem",
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    issue(stack, body)  # the same customer again: the first certificate is superseded
    lines = ocsp_status_over_http(tmp_path, ocsp_url)
    assert lines[0] == "leaf.pem: revoked"
    assert "Reason: superseded" in lines


def test_garbage_to_the_responder_is_an_ocsp_error_not_a_5xx(stack: RunningStack):
    response = requests.post(
        stack.url + "/pki/ocsp",
        data=b"\x30\x82\xff\xff garbage",
        headers={"Content-Type": "application/ocsp-request"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/ocsp-response"
    # OCSPResponse { responseStatus malformedRequest (1) }, unsigned.
    assert response.content == bytes.fromhex("30030a0101")
