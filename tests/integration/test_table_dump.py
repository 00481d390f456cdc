"""What a copy of the table alone gives away (docs/security.md, "someone with a table dump"):
no phone number, birth date or PIN in any item, and the holder's name only where relying parties
are shown it by design, inside the certificate. Everything else is a KMS ciphertext, a KMS HMAC
or a SHA-256 of a 256-bit secret."""

from __future__ import annotations

import hashlib
import re

from boto3.dynamodb.types import Binary

from tests.support.customers import connected, digest_b64
from tests.support.people import CUSTOMER, PIN, WRONG_PIN
from tests.support.table import table_items


def _text(value) -> str:
    if isinstance(value, Binary):
        value = bytes(value.value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return " ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, (set, list, tuple)):
        return " ".join(_text(v) for v in value)
    return str(value)


def test_a_table_dump_holds_no_phone_birth_date_or_pin_and_the_name_only_in_certificates(api):
    customer = connected(api)
    assert customer.authorize(pin=WRONG_PIN).status == 400
    sad = customer.sad(1)
    assert customer.sign_hash(sad, [digest_b64("transfer")]).status == 200
    assert customer.sign_content("이체 10,000원", "cms_attached").status == 201
    assert customer.call("PUT", "/v1/pin", {"pin": PIN, "new_pin": "258036"}).status == 204

    long_forms = {CUSTOMER["phone"], "01012345678", "1012345678", "+821012345678", CUSTOMER["birth_date"]}
    # Six digits also occur by chance inside hex and base64 values: only as a token of their own.
    short_forms = [re.compile(rf"(?<![0-9A-Za-z+/]){s}(?![0-9A-Za-z+/=])") for s in ("900101", PIN, "258036")]
    name_holders = []
    for item in table_items():
        for attribute, value in item.items():
            text = _text(value)
            found = [s for s in long_forms if s in text] + [p.pattern for p in short_forms if p.search(text)]
            assert not found, (item["pk"], item["sk"], attribute, found)
            if CUSTOMER["name"] in text:
                name_holders.append((item["sk"].split("#")[0], attribute))
    assert name_holders and set(name_holders) == {("CRED", "certificate")}
    # Nor the signed content: the history keeps keyed values only.
    digest = hashlib.sha256("이체 10,000원".encode()).hexdigest()
    assert not [i for i in table_items() if digest in _text(i)]
