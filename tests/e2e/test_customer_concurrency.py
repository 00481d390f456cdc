"""End to end, concurrently: what DynamoDB's conditions must settle when one customer's requests
race (PIN attempts, a single-use SAD, the device cap). Run against the local stack, whose gateway
serves requests on parallel threads and serialises DynamoDB requests (moto's conditional writes
are not atomic otherwise), as AWS would apply them one at a time per item."""

from __future__ import annotations

import base64
import hashlib
from collections import Counter

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from tests.support.customers import Customer, connected, history_events, outcome
from tests.support.people import PIN, WRONG_PIN
from tests.support.racing import race

pytestmark = pytest.mark.e2e

MAX_PIN_FAILURES = 5
MAX_DEVICES = 5


def failures(customer: Customer) -> tuple[int, dict]:
    item = customer.account_item()
    return int(item.get("pin_attempts", 0)) - int(item.get("pin_cleared", 0)), item


def reset_pin(customer: Customer) -> None:
    """The bank re-verifies the customer by SMS and sets the PIN again (unlocks it)."""
    started = customer.stack.post("/v1/pin-resets", customer.identity)
    assert started.status_code == 201, started.text
    confirmed = customer.stack.post(
        f"/v1/pin-resets/{started.json()['verification_id']}/confirm",
        {"sms_code": customer.stack.sms_code(customer.phone), "new_pin": customer.pin},
    )
    assert confirmed.status_code == 204, confirmed.text


def wrong_pins_until_locked(customer: Customer) -> int:
    """Sends wrong PINs one at a time; how many it took to lock (the last one answers pin_locked)."""
    for n in range(1, MAX_PIN_FAILURES + 2):
        status, code = outcome(customer.authorize(pin=WRONG_PIN))
        if (status, code) == (403, "pin_locked"):
            return n
        assert (status, code) == (400, "pin_invalid")
    raise AssertionError("never locked")


def test_fifty_parallel_wrong_pins_are_counted_exactly_and_lock_the_pin(stack):
    customer = connected(stack)

    responses = race(stack, [lambda http: customer.authorize(pin=WRONG_PIN, http=http)] * 50)

    # Five attempts were judged: four wrong (400) and the fifth, which locks (403); the other 45
    # found the slots taken and were not judged at all: told "locked" once the five were judged,
    # "retry" (409) while some of them were still being judged.
    outcomes = Counter(outcome(r) for r in responses)
    assert outcomes[(400, "pin_invalid")] == MAX_PIN_FAILURES - 1, outcomes
    assert outcomes[(403, "pin_locked")] >= 1, outcomes
    assert outcomes[(403, "pin_locked")] + outcomes[(409, "pin_attempt_in_flight")] == 50 - (
        MAX_PIN_FAILURES - 1
    )
    assert all(r.headers["Retry-After"] == "1" for r in responses if r.status_code == 409)
    assert all("SAD" not in r.json() for r in responses)
    assert outcome(customer.authorize(pin=PIN)) == (403, "pin_locked"), "even the right PIN, once locked"
    assert outcome(customer.sign_content("로그인", "raw")) == (403, "pin_locked")

    count, item = failures(customer)
    assert count == MAX_PIN_FAILURES, item
    assert history_events(customer)["authorization_failed"] == MAX_PIN_FAILURES

    reset_pin(customer)
    assert customer.authorize(pin=PIN).status_code == 200, "a PIN reset unlocks"


def test_a_correct_pin_racing_wrong_ones_forgives_only_the_attempts_before_it(stack):
    customer = connected(stack)
    rounds_with_later_failures = 0
    for round_number in range(6):
        before, _ = failures(customer)
        attempts_before = int(customer.account_item().get("pin_attempts", 0))
        assert before == 0, f"round {round_number} starts with no failures"

        wrong_pin = lambda http: customer.authorize(pin=WRONG_PIN, http=http)  # noqa: E731
        right_pin = lambda http: customer.authorize(pin=PIN, http=http)  # noqa: E731
        *wrong, right = race(stack, [wrong_pin] * 4 + [right_pin])

        assert right.status_code == 200, right.text  # at most 4 failures: never locked
        # At most 4 wrong PINs are judged: none is told "locked".
        assert all(outcome(r) == (400, "pin_invalid") for r in wrong), [r.text for r in wrong]
        after, item = failures(customer)
        attempts, cleared = int(item["pin_attempts"]), int(item["pin_cleared"])
        assert attempts == attempts_before + 5, "no lost increment"
        assert attempts_before < cleared <= attempts, "the correct PIN forgave up to its own slot"
        assert int(item["pin_lock_at"]) == cleared + MAX_PIN_FAILURES
        # What is left are the wrong PINs reserved after the correct one's slot: 0 to 4, never
        # reset to 0 by a success that committed after them, never negative.
        assert 0 <= after <= 4
        rounds_with_later_failures += after > 0

        # The count is exactly what locks: 5 - after more wrong PINs, and the last one locks.
        assert wrong_pins_until_locked(customer) == MAX_PIN_FAILURES - after
        reset_pin(customer)

    print(f"rounds where wrong PINs landed after the correct one: {rounds_with_later_failures}/6")


def locked(item: dict) -> bool:
    """5 wrong PINs judged past the last correct one: what pin_locked must mean."""
    cleared = int(item.get("pin_cleared", 0))
    return sum(1 for slot in item.get("pin_wrong_slots", ()) if int(slot) > cleared) >= MAX_PIN_FAILURES


def test_right_pins_racing_wrong_ones_are_told_locked_only_when_five_wrong_pins_were_judged(stack):
    customer = connected(stack)
    told_to_retry = 0
    for round_number in range(4):
        wrong_pin = lambda http: customer.authorize(pin=WRONG_PIN, http=http)  # noqa: E731
        right_pin = lambda http: customer.authorize(pin=PIN, http=http)  # noqa: E731
        responses = race(stack, [wrong_pin, right_pin] * MAX_PIN_FAILURES)
        wrong, right = responses[0::2], responses[1::2]

        assert all(
            outcome(r) in {(200, ""), (409, "pin_attempt_in_flight"), (403, "pin_locked")} for r in right
        )
        assert all(
            outcome(r) in {(400, "pin_invalid"), (409, "pin_attempt_in_flight"), (403, "pin_locked")}
            for r in wrong
        )
        _, item = failures(customer)
        said_locked = [r for r in responses if outcome(r) == (403, "pin_locked")]
        # Nothing resets the count after the race: anyone told "locked" must find it locked.
        assert not said_locked or locked(item), (round_number, [r.text for r in said_locked], item)
        told_to_retry += sum(r.status_code == 409 for r in responses)
        if locked(item):
            assert outcome(customer.authorize(pin=PIN)) == (403, "pin_locked")
            reset_pin(customer)
        else:
            assert customer.authorize(pin=PIN).status_code == 200, "not locked: the right PIN works"
    print(f"attempts told to retry: {told_to_retry}")


def test_a_correct_pin_resets_the_count_before_the_lock(stack):
    customer = connected(stack)
    for _ in range(3):
        assert outcome(customer.authorize(pin=WRONG_PIN)) == (400, "pin_invalid")
    assert customer.authorize(pin=PIN).status_code == 200
    assert failures(customer)[0] == 0
    # Five more wrong PINs are needed to lock it (not 2: the success forgave the first three).
    assert wrong_pins_until_locked(customer) == MAX_PIN_FAILURES
    assert outcome(customer.authorize(pin=PIN)) == (403, "pin_locked")


def test_twenty_concurrent_sign_hash_calls_with_a_single_use_sad_produce_one_signature(stack):
    customer = connected(stack)
    digest = hashlib.sha256(b"one transfer, signed once").digest()
    hash_b64 = base64.b64encode(digest).decode()
    sad = customer.sad(1, hash=[hash_b64])

    responses = race(stack, [lambda http: customer.sign_hash(sad, [hash_b64], http=http)] * 20)

    outcomes = Counter(outcome(r) for r in responses)
    assert outcomes[(200, "")] == 1, outcomes
    assert (
        sum(
            n
            for (status, code), n in outcomes.items()
            if status == 400 and code in {"sad_exhausted", "sad_invalid"}
        )
        == 19
    ), outcomes
    (signed,) = [r for r in responses if r.status_code == 200]
    (signature,) = [base64.b64decode(s) for s in signed.json()["signatures"]]
    leaf = x509.load_pem_x509_certificate(customer.issued["certificate_pem"].encode())
    leaf.public_key().verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))

    assert outcome(customer.sign_hash(sad, [hash_b64]))[0] == 400, "and no more after"
    assert history_events(customer)["signed"] == 1


def device_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def test_twenty_concurrent_device_registrations_at_four_devices_leave_exactly_five(stack):
    customer = connected(stack)
    existing = []
    for n in range(MAX_DEVICES - 1):
        registered = customer.call("POST", "/v1/devices", {"name": f"기기 {n}", "public_key": device_key()})
        assert registered.status_code == 201, registered.text
        existing.append(registered.json()["device_id"])

    bodies = [{"name": f"새 기기 {n}", "public_key": device_key()} for n in range(20)]
    responses = race(
        stack,
        [lambda http, body=body: customer.call("POST", "/v1/devices", body, http=http) for body in bodies],
    )

    assert Counter(outcome(r) for r in responses) == {(201, ""): 1, (409, "device_limit_reached"): 19}
    (winner,) = [r.json()["device_id"] for r in responses if r.status_code == 201]
    listed = customer.call("GET", "/v1/devices")
    assert listed.status_code == 200, listed.text
    assert sorted(d["device_id"] for d in listed.json()["devices"]) == sorted([*existing, winner])
    assert history_events(customer)["device_registered"] == MAX_DEVICES


def test_ten_concurrent_registrations_of_one_key_register_it_once(stack):
    customer = connected(stack)
    public_key = device_key()
    responses = race(
        stack,
        [
            lambda http, n=n: customer.call(
                "POST", "/v1/devices", {"name": f"기기 {n}", "public_key": public_key}, http=http
            )
            for n in range(10)
        ],
    )
    assert Counter(outcome(r) for r in responses) == {(201, ""): 1, (409, "device_already_registered"): 9}
    listed = customer.call("GET", "/v1/devices")
    assert len(listed.json()["devices"]) == 1
    assert history_events(customer)["device_registered"] == 1
