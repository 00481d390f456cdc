"""Records the law expects (issue 11 item 14): audit entries outside the account's partition,
written in the transaction of the event they record, kept until 5 years past the later of the
event and the certificate's notAfter; serial records kept 5 years past notAfter, so OCSP and the
verify call still answer for a purged account's expired certificate; the idle purge keeps both,
and neither holds personal data. DynamoDB's TTL is played by moto_fixes.TtlSweeper at the test's
clock."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from boto3.dynamodb.types import TypeSerializer
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.table import from_iso, from_iso_millis
from fincert.admin import ensure_ocsp_responder
from fincert.admin import main as admin
from fincert.domain.retention import RECORD_RETENTION, audit_retained_until
from fincert.wiring import services
from fincert_local.moto_fixes import TtlSweeper

from tests.support.customers import Customer, connected, digest_b64
from tests.support.device_keys import new_device_key, spki_b64
from tests.support.iam import audit_deny_statements, denied, item_actions
from tests.support.in_process import Api
from tests.support.jobs import kst, run
from tests.support.ocsp import leaf_of, ocsp_request
from tests.support.people import CUSTOMER, PERSONAL_DATA, WRONG_PIN
from tests.support.table import Table, credentials, item, serial_record, table_items, typed_key
from tests.support.verifiers import assert_pkilint_clean

_serialize = TypeSerializer().serialize
# After the CA and the TSA exist (the `ca` fixture bootstraps them at the real time): a signature's
# time-stamp needs a TSA certificate valid at the clock's moment.
LAST_USE = kst(2027, 11, 25, 23, 30)
WARN_DAY = kst(2028, 10, 26, 0, 1)
PURGE_DAY = kst(2028, 11, 25, 0, 0, 1)
# What an audit entry or a serial record must never hold besides names, phones and birth dates.
PRIVATE_ATTRIBUTES = {
    "identity_ciphertext",
    "person_index",
    "pin_verifier",
    "wrapped_private_key",
    "challenge_ciphertext",
    "holder_suffix",
}


def audit_entries(account_id: str) -> list[dict]:
    return [i for i in table_items() if i["pk"] == keys.audit_pk(account_id)]


def sweep_at(moment) -> None:
    """DynamoDB's TTL deletion, run as if it were `moment`."""
    TtlSweeper(clock=lambda: moment.timestamp()).sweep_once()


def busy_customer(api) -> Customer:
    """A customer whose history holds each kind of event the law asks to keep."""
    customer = connected(api)
    assert customer.authorize(pin=WRONG_PIN).status == 400  # an authentication failure
    sad = customer.sad(1)
    assert customer.sign_hash(sad, [digest_b64("transfer 1")]).status == 200
    assert customer.sign_content("transfer 2", "cms_detached").status == 201
    assert (
        customer.call("POST", "/v1/certificate/status", {"action": "suspend", "pin": customer.pin}).status
        == 200
    )
    return customer


def test_audit_entries_leave_the_account_partition_with_their_ttl_fixed_at_write(api, clock):
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    customer = busy_customer(api)
    [credential] = credentials(customer.account_id).values()
    not_after = credential["not_after"]
    entries = audit_entries(customer.account_id)
    assert sorted(e["event"] for e in entries) == sorted(
        ["issued", "connected", "authorization_failed", "authorized", "signed", "signed", "status_changed"]
    )
    assert not [i for i in table_items() if i["pk"] == keys.account_pk(customer.account_id) and "event" in i]
    for entry in entries:
        # Every one of these events is about the certificate: 5 years past its end, not the event.
        at, ends = from_iso_millis(entry["at"]), from_iso(not_after)
        assert at < ends
        assert entry["expires_at"] == int((ends + RECORD_RETENTION).timestamp()), entry["event"]


def test_a_purge_keeps_audit_entries_and_serial_records_without_personal_data(api, clock, ca):
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    customer = busy_customer(api)
    account_id = customer.account_id
    leaf = leaf_of(customer.issued)
    serial = keys.serial_hex(leaf.serial_number)
    entries_before = audit_entries(account_id)

    clock.at = WARN_DAY
    run(api.gateway, "purge")
    clock.at = PURGE_DAY
    assert run(api.gateway, "purge")["planned"]["by_kind"] == {"purge": 1}
    assert [i for i in table_items() if i["pk"] == keys.account_pk(account_id)] == []
    after = audit_entries(account_id)
    assert [e for e in after if e in entries_before] == entries_before, (
        "the purge neither deletes nor changes them"
    )
    [added] = [e for e in after if e not in entries_before]
    assert (added["event"], added["detail"]["via"], added["detail"]["serial"]) == (
        "status_changed",
        "idle_purge",
        serial,
    )
    entries_before = after
    record = serial_record(serial)
    assert (record["status"], record["revocation_reason"]) == ("revoked", "cessationOfOperation")

    kept = [*audit_entries(account_id), record, item(keys.purge_record(account_id))]
    for kept_item in kept:
        assert not PRIVATE_ATTRIBUTES & set(kept_item), kept_item["pk"]
        text = json.dumps(kept_item, default=str, ensure_ascii=False)
        assert not [p for p in PERSONAL_DATA if p in text], kept_item["pk"]
        assert CUSTOMER["name"] not in text and "certificate" not in kept_item

    # Past notAfter, after DynamoDB's TTL ran: the serial record and the audit entries are still
    # there, so OCSP still says revoked (not unknown) and an audit can follow what happened.
    not_after = leaf.not_valid_after_utc
    clock.at = not_after + timedelta(days=1)
    sweep_at(clock.at)
    assert serial_record(serial) is not None and len(audit_entries(account_id)) == len(entries_before)
    ensure_ocsp_responder(services())  # the responder of that day (30-day certificates)
    answer = Api(api.gateway).post(
        "/pki/ocsp",
        body=ocsp_request(leaf, ca.issuing_certificate),
        headers={"Content-Type": "application/ocsp-request"},
    )
    assert answer.status == 200
    response = ocsp.load_der_ocsp_response(answer.body)
    assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert (
        response.revocation_reason is not None and response.revocation_reason.name == "cessation_of_operation"
    )

    # 5 years past notAfter: both go, at the TTL written when they were.
    retained_until = not_after + RECORD_RETENTION
    sweep_at(retained_until - timedelta(seconds=1))
    assert serial_record(serial) is not None and audit_entries(account_id)
    sweep_at(retained_until + timedelta(seconds=1))
    assert serial_record(serial) is None and audit_entries(account_id) == []


def test_ocsp_for_an_expired_certificate_is_pkilint_clean(api, clock, ca, tmp_path):
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    customer = connected(api)
    leaf = leaf_of(customer.issued)
    customer.issue()  # a reissue: the first certificate is revoked, superseded
    clock.at = leaf.not_valid_after_utc + timedelta(days=400)
    sweep_at(clock.at)
    ensure_ocsp_responder(services())
    answer = Api(api.gateway).post(
        "/pki/ocsp",
        body=ocsp_request(leaf, ca.issuing_certificate),
        headers={"Content-Type": "application/ocsp-request"},
    )
    assert ocsp.load_der_ocsp_response(answer.body).certificate_status == ocsp.OCSPCertStatus.REVOKED
    (tmp_path / "expired-revoked.der").write_bytes(answer.body)
    assert_pkilint_clean("lint_ocsp_response", str(tmp_path / "expired-revoked.der"))


def test_the_service_never_changes_or_deletes_an_audit_entry(api, clock, aws_calls):
    """Every DynamoDB request of a customer's whole life, judged against template.yaml's deny as
    IAM would judge it: none is denied (the deny breaks no flow), and every audit entry is put
    only if new (IAM cannot say that; the code must)."""
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    aws_calls.clear()
    customer = busy_customer(api)
    assert (
        customer.call("POST", "/v1/certificate/status", {"action": "revoke", "pin": customer.pin}).status
        == 200
    )
    customer.issue()
    customer.connect()
    key = new_device_key()
    added = customer.call("POST", "/v1/devices", {"name": "phone", "public_key": spki_b64(key)})
    assert added.status == 201
    assert customer.call("DELETE", f"/v1/devices/{added.json()['device_id']}").status == 204
    assert customer.call("PUT", "/v1/pin", {"pin": customer.pin, "new_pin": "258036"}).status == 204
    clock.at = WARN_DAY
    run(api.gateway, "purge")
    clock.at = PURGE_DAY
    run(api.gateway, "purge")

    deny = audit_deny_statements()
    audit_puts = 0
    for call, body in zip(aws_calls.calls, aws_calls.bodies, strict=True):
        service, operation = call.split(".")
        if service != "dynamodb" or not body:
            continue
        params = json.loads(body)
        for action, leading_keys in item_actions(operation, params):
            assert not denied(deny, action, leading_keys), (operation, action, leading_keys)
        for put in _audit_puts(operation, params):
            audit_puts += 1
            assert put.get("ConditionExpression") == "attribute_not_exists(pk)", operation
    assert audit_puts >= 10
    # The judge itself: what it must refuse, it refuses.
    tampering = {"Key": {"pk": {"S": keys.audit_pk(customer.account_id)}, "sk": {"S": "HIST#x"}}}
    assert denied(deny, *item_actions("UpdateItem", tampering)[0])
    assert denied(deny, *item_actions("DeleteItem", tampering)[0])


def _audit_puts(operation: str, params: dict) -> list[dict]:
    if operation == "PutItem":
        candidates = [params]
    elif operation == "TransactWriteItems":
        candidates = [i["Put"] for i in params["TransactItems"] if "Put" in i]
    else:
        return []
    return [c for c in candidates if c["Item"]["pk"]["S"].startswith(keys.AUDIT_PREFIX)]


def test_history_cursors_stay_within_the_audit_partition(api, clock):
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    customer = connected(api)
    for _ in range(3):
        assert customer.authorize().status == 200
    page = customer.call("GET", "/v1/history?limit=2").json()
    cursor = page["next_cursor"]
    assert base64.urlsafe_b64decode(cursor + "==").decode().startswith(keys.HISTORY_PREFIX)
    rest = customer.call("GET", f"/v1/history?limit=10&cursor={cursor}").json()
    assert len(page["entries"]) + len(rest["entries"]) == 5  # issued, connected, 3 authorized


def test_authentication_failures_are_audited(api, clock):
    """A wrong SMS code at a connection or a re-verification, and a wrong device signature, as
    well as a wrong PIN: each leaves an audit entry (no personal data), kept by the retention rule
    even without the account read for its certificate's end (the longest validity assumed)."""
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    customer = connected(api)
    verification_id = customer.start_connection()
    assert api.post(f"/v1/connections/{verification_id}/confirm", {"sms_code": "000000"}).status == 400
    reset = api.post("/v1/pin-resets", CUSTOMER).json()["verification_id"]
    wrong = api.post(f"/v1/pin-resets/{reset}/confirm", {"sms_code": "000000", "new_pin": "258036"})
    assert wrong.status == 400
    key = new_device_key()
    added = customer.call("POST", "/v1/devices", {"name": "phone", "public_key": spki_b64(key)})
    started = api.post("/v1/device-connections", {"device_handle": added.json()["device_handle"]}).json()
    forged = new_device_key().sign(base64.b64decode(started["challenge"]), ec.ECDSA(hashes.SHA256()))
    signature = {"signature": base64.b64encode(forged).decode()}
    assert api.post(f"/v1/device-connections/{started['challenge_id']}/confirm", signature).status == 400

    failures = [
        e
        for e in audit_entries(customer.account_id)
        if e["event"] in ("connection_failed", "verification_failed")
    ]
    assert sorted((e["event"], e["detail"]["reason"]) for e in failures) == [
        ("connection_failed", "device_signature_invalid"),
        ("connection_failed", "sms_code_invalid"),
        ("verification_failed", "sms_code_invalid"),
    ]
    for entry in failures:
        at = from_iso_millis(entry["at"])
        assert entry["expires_at"] >= int((at + timedelta(days=3 * 365) + RECORD_RETENTION).timestamp())
    events = [e["event"] for e in customer.call("GET", "/v1/history?limit=50").json()["entries"]]
    assert "connection_failed" in events, "the bank sees the failures at its own institution"


def test_the_services_own_revocations_are_audited_with_them(api, clock):
    """A reissue's and the idle purge's revocations are status changes too: each writes its audit
    entry in the transaction that revokes (a renewal's: tests/integration/test_renewal_job.py)."""
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    customer = connected(api)
    first_serial = keys.serial_hex(leaf_of(customer.issued).serial_number)
    customer.issue()  # a reissue supersedes the first certificate
    second_serial = keys.serial_hex(leaf_of(customer.issued).serial_number)
    clock.at = WARN_DAY
    run(api.gateway, "purge")
    clock.at = PURGE_DAY
    run(api.gateway, "purge")
    run(api.gateway, "purge")  # a second run finds nothing more to revoke or record

    revocations = sorted(
        (e["detail"]["serial"], e["detail"]["reason"], e["detail"]["via"], e["institution_id"])
        for e in audit_entries(customer.account_id)
        if e["event"] == "status_changed"
    )
    assert revocations == sorted(
        [
            (first_serial, "superseded", "reissue", "demo-bank"),
            (second_serial, "cessationOfOperation", "idle_purge", "_service"),
        ]
    )


# --- history lines written before audit entries had their own partition -------------------------
def as_written_before_audit_partition(account_id: str) -> list[dict]:
    """Puts the account's audit entries back where the service wrote history lines before
    AUDIT# existed (under ACCT#, kept 5 years past the event), as an upgraded table holds them."""
    table = Table.in_process()
    legacy = []
    for entry in audit_entries(account_id):
        old = {
            **entry,
            "pk": keys.account_pk(account_id),
            "expires_at": int((from_iso_millis(entry["at"]) + RECORD_RETENTION).timestamp()),
        }
        table.client.put_item(TableName=table.name, Item={k: _serialize(v) for k, v in old.items()})
        table.client.delete_item(TableName=table.name, Key=typed_key(keys.Key(entry["pk"], entry["sk"])))
        legacy.append(old)
    assert audit_entries(account_id) == []
    return legacy


def audit_copy_of(line: dict) -> dict:
    """What a legacy line must become: the same line under AUDIT#, kept as long as retention
    keeps an entry whose certificate's end it never recorded."""
    at = from_iso_millis(line["at"])
    return {
        **line,
        "pk": keys.audit_pk(line["pk"].removeprefix(keys.ACCOUNT_PREFIX)),
        "expires_at": int(audit_retained_until(at, None).timestamp()),
    }


def _api_time(at: str) -> str:
    return from_iso_millis(at).isoformat().replace("+00:00", "Z")


def history_lines(customer: Customer) -> list[tuple[str, str]]:
    entries = customer.call("GET", "/v1/history?limit=100").json()["entries"]
    return sorted((e["event"], e["at"]) for e in entries)


def test_a_purge_of_an_account_from_before_the_audit_partition_keeps_its_history(api, clock):
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    customer = busy_customer(api)
    account_id = customer.account_id
    legacy = as_written_before_audit_partition(account_id)
    assert len(legacy) == 7

    clock.at = WARN_DAY
    run(api.gateway, "purge")
    clock.at = PURGE_DAY
    assert run(api.gateway, "purge")["planned"]["by_kind"] == {"purge": 1}
    assert [i for i in table_items() if i["pk"] == keys.account_pk(account_id)] == []
    kept = {e["sk"]: e for e in audit_entries(account_id)}
    for line in legacy:
        assert kept.get(line["sk"]) == audit_copy_of(line), line["event"]
    assert [e["detail"]["via"] for e in kept.values() if e["sk"] not in {x["sk"] for x in legacy}] == [
        "idle_purge"
    ]


def test_migrate_history_copies_every_legacy_line_once_and_history_shows_them(api, clock, capsys):
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    customer = busy_customer(api)
    legacy = as_written_before_audit_partition(customer.account_id)
    assert history_lines(customer) == [], "history reads AUDIT# only"

    capsys.readouterr()
    assert admin(["migrate-history"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "copied": len(legacy),
        "already_there": 0,
    }
    for line in legacy:
        assert item(keys.Key(keys.audit_pk(line["pk"].removeprefix(keys.ACCOUNT_PREFIX)), line["sk"])) == (
            audit_copy_of(line)
        )
    assert history_lines(customer) == sorted((line["event"], _api_time(line["at"])) for line in legacy)

    # Rerun (or resumed after a stop): nothing is written twice.
    assert admin(["migrate-history"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "copied": 0,
        "already_there": len(legacy),
    }


def test_migrate_history_resumes_from_the_key_it_printed(api, clock, capsys, monkeypatch):
    clock.at = LAST_USE
    ensure_ocsp_responder(services())  # as the daily job keeps it: signatures carry its answer
    customer = busy_customer(api)
    legacy = as_written_before_audit_partition(customer.account_id)
    store = services().store
    original = store.migrate_legacy_history
    monkeypatch.setattr(store, "migrate_legacy_history", lambda start: original(start, page_size=1))
    capsys.readouterr()
    assert admin(["migrate-history"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out.strip().splitlines()[-1])["copied"] == len(legacy)
    resume = [line for line in printed.err.splitlines() if "--resume-from" in line][2]
    key = resume.split("--resume-from '", 1)[1].rstrip("'")
    assert admin(["migrate-history", "--resume-from", key]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["copied"] == 0
