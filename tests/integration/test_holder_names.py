"""Names and the certificate (issue 11, hardening): a name the certificate cannot hold is refused
where the bank submits it, with its own code, before any SMS, KMS call or write. A name that is
accepted there is always issued: the confirm, after the customer typed the code and chose a
PIN, never fails on the name. Legal names are refused, never shortened."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from fincert.crypto.x509_profile import MAX_HOLDER_NAME_BYTES

from tests.support.customers import enroll, issue
from tests.support.people import ENROLLMENT, PHONE, PIN
from tests.support.table import is_account, is_credential, table_items

# Each Hangul syllable is 3 UTF-8 bytes: the longest name that fits, and one letter more.
LONGEST_HANGUL = "가" * (MAX_HOLDER_NAME_BYTES // 3)
TOO_LONG_HANGUL = "가" * (MAX_HOLDER_NAME_BYTES // 3 + 1)
# Latin names keep their spaces in the certificate (the index ignores them): 26 letters and 25
# spaces are 51 bytes, within the 40-letter rule but not within the certificate.
TOO_LONG_LATIN = " ".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
LONGEST_LATIN = " ".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ")[: MAX_HOLDER_NAME_BYTES - 1].rstrip()

IDENTITY_ROUTES = ["/v1/enrollments", "/v1/connections", "/v1/pin-resets", "/v1/status-changes"]


def _common_name(issued: dict) -> str:
    cert = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_the_limit_is_what_the_certificate_can_hold():
    # RFC 5280's ub-common-name (64), less the "(<12 hex>)" suffix the profile appends.
    assert 64 - len("(0123456789AB)") == MAX_HOLDER_NAME_BYTES


@pytest.mark.parametrize("name", [TOO_LONG_HANGUL, TOO_LONG_LATIN], ids=["hangul", "latin-with-spaces"])
@pytest.mark.parametrize("path", IDENTITY_ROUTES)
def test_a_name_the_certificate_cannot_hold_is_refused_before_any_sms_kms_or_write(
    api, svc, aws_calls, path, name
):
    body = {k: v for k, v in ENROLLMENT.items() if path == "/v1/enrollments" or k in ("phone", "birth_date")}
    before = table_items(svc)
    aws_calls.clear()
    response = api.post(path, body | {"name": name})
    assert response.status == 400, response.body
    error = response.json()["error"]
    assert error["code"] == "name_too_long"
    assert error["details"] == {"max_bytes": MAX_HOLDER_NAME_BYTES}
    assert name not in response.body.decode(), "the name is never echoed"
    assert not [c for c in aws_calls.calls if c.startswith(("kms.", "sns."))]
    assert not [c for c in aws_calls.calls if not c.startswith("dynamodb.GetItem")], "nothing written"
    assert table_items(svc) == before


@pytest.mark.parametrize("name", [LONGEST_HANGUL, LONGEST_LATIN], ids=["hangul", "latin-with-spaces"])
def test_the_longest_name_that_fits_is_issued_as_written(api, name):
    issued = issue(api, ENROLLMENT | {"name": name})
    common_name = _common_name(issued)
    assert common_name.startswith(name + "(")
    assert len(common_name.encode()) <= 64


def test_a_pending_enrollment_whose_name_does_not_fit_is_refused_not_a_server_error(
    api, svc, aws_calls, monkeypatch
):
    """An enrollment started before the rule existed gets a 4xx at the confirm, before any key
    is made or signed, and no certificate."""
    with monkeypatch.context() as old_version:
        old_version.setattr("fincert.domain.identity.check_name_fits_certificate", lambda name: None)
        enrollment_id = enroll(api, ENROLLMENT | {"name": TOO_LONG_HANGUL})
    code = api.last_sms_code(PHONE)
    aws_calls.clear()
    response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": PIN})
    assert response.status == 400, response.body
    assert response.json()["error"]["code"] == "name_too_long"
    assert not [c for c in aws_calls.calls if c in ("kms.Sign", "kms.Encrypt", "kms.GenerateMac")]
    assert not [i for i in table_items(svc) if is_credential(i) or is_account(i)]
