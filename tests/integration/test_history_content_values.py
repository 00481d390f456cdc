"""The history keeps signed contents as keyed values, not plain SHA-256 (issue 11 item 13): a
dictionary of likely contents (templated transfers) no longer reverses it, and whoever holds a
content still finds its signatures by asking the service, which computes the keyed value."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from fincert.adapters.dynamodb import keys
from fincert.domain.content_macs import ContentMacs
from fincert.wiring import services

from tests.support.customers import connected, digest_b64
from tests.support.table import table_items

KEYED = re.compile(r"^v1:[0-9a-f]{64}$")


def _signed_entries(customer) -> list[dict]:
    entries = customer.call("GET", "/v1/history?limit=100").json()["entries"]
    return [e for e in entries if e["event"] == "signed"]


def test_signed_contents_are_kept_as_keyed_values_a_dictionary_cannot_reverse(api):
    customer = connected(api)
    transfer = "이체 10,000원 → 국민은행 123-456-789"
    sad = customer.sad(1)
    assert customer.sign_hash(sad, [digest_b64(transfer)]).status == 200
    assert customer.sign_content(transfer, "raw").status == 201

    digest = hashlib.sha256(transfer.encode()).digest()
    values = [e["detail"]["hashes"] for e in _signed_entries(customer)]
    assert len(values) == 2 and all(KEYED.match(v) for v in values)
    assert values[0] == values[1], "the same content, the same value, whichever API signed it"
    audit = [i for i in table_items() if i["pk"].startswith(keys.AUDIT_PREFIX)]
    stored = json.dumps(audit, default=str)
    for plain in (digest.hex(), digest.hex().upper(), base64.b64encode(digest).decode()):
        assert plain not in stored, "the plain digest is nowhere in the audit entries"
    # The value is the service's, stable across containers: derived from the KMS key, not random.
    fresh = ContentMacs(services().kms, services().settings.content_mac_key_id)
    assert fresh.of(digest) == values[0]


def test_who_holds_a_content_finds_its_signatures_by_its_sha256(api):
    customer = connected(api)
    contents = ["transfer A", "transfer B"]
    assert customer.sign_contents([{"text": contents[0]}, {"text": contents[1]}], ["raw"]).status == 201
    assert customer.sign_content("transfer C", "raw").status == 201

    def found(text: str) -> list[dict]:
        digest = hashlib.sha256(text.encode()).hexdigest()
        response = customer.call("GET", f"/v1/history?content_sha256={digest}")
        assert response.status == 200, response.body
        return response.json()["entries"]

    [both] = found("transfer B")
    assert both["detail"]["contents"] == "2"
    assert found("transfer A") == [both]
    assert [e["detail"]["contents"] for e in found("transfer C")] == ["1"]
    assert found("never signed") == []
    upper = hashlib.sha256(b"transfer C").hexdigest().upper()
    assert len(customer.call("GET", f"/v1/history?content_sha256={upper}").json()["entries"]) == 1
    bad = customer.call("GET", "/v1/history?content_sha256=abc")
    assert bad.status == 422, "refused like any malformed parameter"
