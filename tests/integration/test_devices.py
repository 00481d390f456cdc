"""Registered devices: at most 5 per customer, listed and removed by the customer, and each can
connect later by signing a fresh, single-use challenge (no name, phone or birth date)."""

from __future__ import annotations

import base64
from datetime import timedelta

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fincert.adapters.dynamodb import keys

from tests.support.customers import connected, history_events
from tests.support.device_keys import new_device_key, spki_b64
from tests.support.in_process import Api
from tests.support.people import other_customer
from tests.support.table import table_items


def audit_items(account_id: str) -> list[dict]:
    return [i for i in table_items() if i["pk"] == keys.audit_pk(account_id)]


def register(customer, key, name: str = "my phone"):
    return customer.call("POST", "/v1/devices", {"name": name, "public_key": spki_b64(key)})


def device_connect(api: Api, handle: str, key) -> tuple[int, dict]:
    started = api.post("/v1/device-connections", {"device_handle": handle})
    if started.status != 201:
        return started.status, started.json()
    challenge = base64.b64decode(started.json()["challenge"])
    signature = key.sign(challenge, ec.ECDSA(hashes.SHA256()))
    confirmed = api.post(
        f"/v1/device-connections/{started.json()['challenge_id']}/confirm",
        {"signature": base64.b64encode(signature).decode()},
    )
    return confirmed.status, confirmed.json()


def test_a_registered_device_connects_by_signing_the_challenge(api):
    customer = connected(api)
    key = new_device_key()
    registered = register(customer, key)
    assert registered.status == 201, registered.body
    status, session = device_connect(api, registered.json()["device_handle"], key)
    assert status == 201, session
    assert session["institution_registered"] is True
    with_device_session = api.get("/v1/devices", api_key=session["session_token"])
    assert with_device_session.status == 200
    listed = with_device_session.json()["devices"]
    assert [d["name"] for d in listed] == ["my phone"]
    assert listed[0]["last_used_at"] is not None


def test_a_challenge_signed_by_another_key_or_used_twice_connects_nothing(api):
    customer = connected(api)
    key = new_device_key()
    handle = register(customer, key).json()["device_handle"]
    status, body = device_connect(api, handle, new_device_key())
    assert (status, body["error"]["code"]) == (400, "device_signature_invalid")

    started = api.post("/v1/device-connections", {"device_handle": handle}).json()
    signature = base64.b64encode(
        key.sign(base64.b64decode(started["challenge"]), ec.ECDSA(hashes.SHA256()))
    ).decode()
    path = f"/v1/device-connections/{started['challenge_id']}/confirm"
    assert api.post(path, {"signature": signature}).status == 201
    replay = api.post(path, {"signature": signature})
    assert (replay.status, replay.json()["error"]["code"]) == (410, "challenge_used")


def test_a_wrong_signature_ends_the_challenge_with_one_audit_entry(api):
    """Otherwise every wrong signature on one challenge would add an audit entry, without limit."""
    customer = connected(api)
    key = new_device_key()
    handle = register(customer, key).json()["device_handle"]
    started = api.post("/v1/device-connections", {"device_handle": handle}).json()
    challenge = base64.b64decode(started["challenge"])
    path = f"/v1/device-connections/{started['challenge_id']}/confirm"

    def sign(with_key) -> dict:
        return {"signature": base64.b64encode(with_key.sign(challenge, ec.ECDSA(hashes.SHA256()))).decode()}

    wrong = api.post(path, sign(new_device_key()))
    assert (wrong.status, wrong.json()["error"]["code"]) == (400, "device_signature_invalid")
    for attempt in (sign(new_device_key()), sign(key)):  # another wrong one, then the right one
        again = api.post(path, attempt)
        assert (again.status, again.json()["error"]["code"]) == (410, "challenge_used")
    failures = [e for e in audit_items(customer.account_id) if e["event"] == "connection_failed"]
    assert len(failures) == 1
    assert device_connect(api, handle, key)[0] == 201, "a fresh challenge still connects"


def test_an_expired_challenge_connects_nothing(api, clock):
    customer = connected(api)
    key = new_device_key()
    handle = register(customer, key).json()["device_handle"]
    started = api.post("/v1/device-connections", {"device_handle": handle}).json()
    signature = base64.b64encode(
        key.sign(base64.b64decode(started["challenge"]), ec.ECDSA(hashes.SHA256()))
    ).decode()
    clock.at += timedelta(minutes=3)
    late = api.post(f"/v1/device-connections/{started['challenge_id']}/confirm", {"signature": signature})
    assert (late.status, late.json()["error"]["code"]) == (410, "challenge_expired")


def test_another_institutions_challenge_is_not_found(api, gateway, other_bank):
    customer = connected(api)
    key = new_device_key()
    handle = register(customer, key).json()["device_handle"]
    started = api.post("/v1/device-connections", {"device_handle": handle}).json()
    signature = base64.b64encode(
        key.sign(base64.b64decode(started["challenge"]), ec.ECDSA(hashes.SHA256()))
    ).decode()
    other = Api(gateway, other_bank["api_key"])
    response = other.post(
        f"/v1/device-connections/{started['challenge_id']}/confirm", {"signature": signature}
    )
    assert (response.status, response.json()["error"]["code"]) == (404, "challenge_not_found")


def test_at_most_five_devices_and_a_removed_one_cannot_connect(api):
    customer = connected(api)
    keys = [new_device_key() for _ in range(6)]
    handles = []
    for key in keys[:5]:
        response = register(customer, key)
        assert response.status == 201
        handles.append(response.json()["device_handle"])
    sixth = register(customer, keys[5])
    assert (sixth.status, sixth.json()["error"]["code"]) == (409, "device_limit_reached")
    devices = customer.call("GET", "/v1/devices").json()["devices"]
    assert len(devices) == 5

    removed = devices[0]["device_id"]
    assert customer.call("DELETE", f"/v1/devices/{removed}").status == 204
    assert customer.call("DELETE", f"/v1/devices/{removed}").status == 404
    removed_handle = next(h for h in handles if h.endswith(removed))
    status, body = device_connect(api, removed_handle, keys[handles.index(removed_handle)])
    assert (status, body["error"]["code"]) == (404, "device_not_found")
    assert register(customer, keys[5]).status == 201  # room again


def test_device_keys_must_be_p256(api):
    customer = connected(api)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p384 = ec.generate_private_key(ec.SECP384R1())
    for public_key in [spki_b64(rsa_key), spki_b64(p384), base64.b64encode(b"junk").decode(), "@@@"]:
        response = customer.call("POST", "/v1/devices", {"name": "x", "public_key": public_key})
        assert (response.status, response.json()["error"]["code"]) == (400, "device_key_invalid")
    assert customer.call("GET", "/v1/devices").json()["devices"] == []


def test_one_customer_cannot_see_or_remove_anothers_devices(api):
    alice = connected(api)
    bob = connected(api, other_customer(3))
    device_id = register(alice, new_device_key()).json()["device_id"]
    assert bob.call("GET", "/v1/devices").json()["devices"] == []
    assert bob.call("DELETE", f"/v1/devices/{device_id}").status == 404
    assert len(alice.call("GET", "/v1/devices").json()["devices"]) == 1


def test_unknown_or_malformed_device_handles_are_not_found(api):
    connected(api)
    for handle in [
        "fcd.acct_nobody00000000000000000.dev_x0000000000000000000",
        "garbage-handle",
        "fcd.a.b.c.d.e",
    ]:
        response = api.post("/v1/device-connections", {"device_handle": handle})
        assert (response.status, response.json()["error"]["code"]) == (404, "device_not_found"), handle


def spki_b64_compressed(key) -> str:
    """The same public key as spki_b64, with its point in compressed form: another encoding."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    der = base64.b64decode(spki_b64(key))
    # SPKI of P-256: a 26-byte header (SEQUENCE, algorithm and curve, BIT STRING of 66 bytes with
    # no unused bits) then the 65-byte uncompressed point; the compressed point is 32 bytes shorter.
    header = bytearray(der[:-65])
    header[1] -= 32  # SEQUENCE length
    header[-2] -= 32  # BIT STRING length
    return base64.b64encode(bytes(header) + point).decode()


def test_the_same_device_key_cannot_be_registered_twice_and_removing_it_frees_it(api, svc):
    customer = connected(api)
    key = new_device_key()
    first = register(customer, key, "my phone")
    assert first.status == 201, first.body
    before = table_items(svc)
    for public_key in [spki_b64(key), spki_b64_compressed(key)]:
        again = customer.call("POST", "/v1/devices", {"name": "my phone again", "public_key": public_key})
        assert (again.status, again.json()["error"]["code"]) == (409, "device_already_registered")
    assert table_items(svc) == before, "nothing written, no device counted"
    assert [d["name"] for d in customer.call("GET", "/v1/devices").json()["devices"]] == ["my phone"]
    assert history_events(customer)["device_registered"] == 1

    device_id = first.json()["device_id"]
    assert customer.call("DELETE", f"/v1/devices/{device_id}").status == 204
    registered_again = register(customer, key, "my phone")
    assert registered_again.status == 201, registered_again.body
    status, _ = device_connect(api, registered_again.json()["device_handle"], key)
    assert status == 201


def test_another_customer_may_register_the_same_key(api):
    key = new_device_key()
    assert register(connected(api), key).status == 201
    assert register(connected(api, identity=other_customer(1)), key).status == 201


def test_at_five_devices_a_key_already_registered_is_told_as_such(api):
    customer = connected(api)
    keys = [new_device_key() for _ in range(5)]
    for key in keys:
        assert register(customer, key).status == 201
    again = register(customer, keys[0])
    assert (again.status, again.json()["error"]["code"]) == (409, "device_already_registered")
    other = register(customer, new_device_key())
    assert (other.status, other.json()["error"]["code"]) == (409, "device_limit_reached")
