"""What a FinCert-style signing call may ask (fincert.domain.signing): the contents (text, bytes or
a SHA-256 hash) with their byte limits, the sign types by name or FinCert code, and the formats;
all judged before the PIN, so a refusal costs no attempt, no write and no KMS call."""

from __future__ import annotations

import base64
import hashlib

import pytest
from fincert.domain.sign_requests import (
    MAX_CONTENT_BYTES,
    MAX_CONTENTS,
    MAX_TOTAL_CONTENT_BYTES,
    ContentKind,
    SignatureFormat,
    SignContent,
    SignType,
    check_sign_request,
)
from fincert.errors import InvalidRequest

DETACHED, ATTACHED, RAW = SignatureFormat.CMS_DETACHED, SignatureFormat.CMS_ATTACHED, SignatureFormat.RAW


def code_of(call) -> str:
    with pytest.raises(InvalidRequest) as caught:
        call()
    return caught.value.code


def test_text_is_signed_as_its_utf8_bytes_and_limited_in_bytes():
    text = SignContent.text("이체 10,000원")
    assert (text.kind, text.data) == (ContentKind.TEXT, "이체 10,000원".encode())
    assert text.sha256 == hashlib.sha256(text.data).digest()
    assert len(SignContent.text("가" * 2730 + "xx").data) == MAX_CONTENT_BYTES
    assert code_of(lambda: SignContent.text("가" * 2731)) == "content_too_large"
    assert code_of(lambda: SignContent.text("")) == "content_empty"


def test_binary_comes_as_standard_base64_with_an_optional_name():
    binary = SignContent.from_base64(base64.b64encode(b"\x00\xff").decode(), "계약서.pdf")
    assert (binary.kind, binary.data, binary.name) == (ContentKind.BINARY, b"\x00\xff", "계약서.pdf")
    assert (
        SignContent.from_base64(base64.b64encode(b"x" * MAX_CONTENT_BYTES).decode()).size == MAX_CONTENT_BYTES
    )
    for bad in ("not base64!", "eA", "eA==\n", "-_8=", "===="):
        assert code_of(lambda bad=bad: SignContent.from_base64(bad)) == "content_base64_invalid", bad
    assert code_of(lambda: SignContent.from_base64("")) == "content_empty"
    too_large = base64.b64encode(b"x" * (MAX_CONTENT_BYTES + 1)).decode()
    assert code_of(lambda: SignContent.from_base64(too_large)) == "content_too_large"


def test_a_hash_is_a_sha256_digest_in_hex_or_base64():
    digest = hashlib.sha256(b"content").digest()
    for written in (digest.hex(), digest.hex().upper(), base64.b64encode(digest).decode()):
        content = SignContent.from_sha256(written)
        assert (content.kind, content.data, content.sha256, content.size) == (
            ContentKind.HASH,
            digest,
            digest,
            32,
        )
    for bad in (
        digest.hex()[:-2],
        digest.hex() + "00",
        "zz" * 32,
        base64.b64encode(digest[:-1]).decode(),
        "",
    ):
        assert code_of(lambda bad=bad: SignContent.from_sha256(bad)) == "content_sha256_invalid", bad


@pytest.mark.parametrize(
    ("written", "sign_type", "code"),
    [
        ("login", SignType.LOGIN, "01"),
        ("01", SignType.LOGIN, "01"),
        ("02", SignType.TRANSFER, "02"),
        ("product", SignType.PRODUCT, "03"),
        ("04", SignType.CONTRACT, "04"),
        ("payment", SignType.PAYMENT, "05"),
        ("06", SignType.CERTIFICATE_ISSUANCE, "06"),
        ("asset_linking", SignType.ASSET_LINKING, "07"),
        ("08", SignType.AUTHENTICATOR_MANAGEMENT, "08"),
        ("99", SignType.OTHER, "99"),
    ],
)
def test_sign_types_by_name_or_fincert_code(written, sign_type, code):
    assert SignType.parse(written) is sign_type
    assert sign_type.code == code


def test_every_sign_type_has_its_own_code():
    codes = [t.code for t in SignType]
    assert len(set(codes)) == len(codes) == 9
    for bad in ("1", "09", "Login", "gift", ""):
        assert code_of(lambda bad=bad: SignType.parse(bad)) == "sign_type_invalid", bad


def test_what_one_call_may_ask():
    text = SignContent.text("x")
    digest = SignContent.from_sha256("ab" * 32)
    check_sign_request([text] * MAX_CONTENTS, [ATTACHED, DETACHED, RAW])
    check_sign_request([text, digest], [DETACHED, RAW])
    assert code_of(lambda: check_sign_request([], [RAW])) == "contents_count_invalid"
    assert code_of(lambda: check_sign_request([text] * (MAX_CONTENTS + 1), [RAW])) == "contents_count_invalid"
    assert code_of(lambda: check_sign_request([text], [])) == "formats_invalid"
    assert code_of(lambda: check_sign_request([text], [RAW, RAW])) == "formats_invalid"
    # An attached SignedData carries its content: a digest cannot be attached.
    assert code_of(lambda: check_sign_request([text, digest], [ATTACHED])) == "hash_content_not_attachable"
    assert code_of(lambda: check_sign_request([digest], [RAW, ATTACHED])) == "hash_content_not_attachable"


def test_the_contents_together_are_limited_too():
    full = SignContent.binary(b"x" * MAX_CONTENT_BYTES)
    check_sign_request([full, full], [RAW])  # exactly the total
    assert 2 * MAX_CONTENT_BYTES == MAX_TOTAL_CONTENT_BYTES
    with pytest.raises(InvalidRequest) as caught:
        check_sign_request([full, full, SignContent.text("x")], [RAW])
    assert caught.value.code == "contents_too_large"
    assert caught.value.details == {"max_bytes": MAX_TOTAL_CONTENT_BYTES}
