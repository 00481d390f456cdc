"""PinChecker (fincert.domain.pin_attempts) with the fake KMS and the DynamoDB store on moto: what
a PIN attempt is told when the slots are all taken. "Locked" is only for 5 wrong PINs judged (or
attempts cut short by a fault); attempts still being judged make the next one wait (409)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fincert.adapters.dynamodb import keys
from fincert.adapters.dynamodb.table import dump_item, iso
from fincert.clock import FixedClock
from fincert.domain.account_records import PinSlot
from fincert.domain.history_records import HistoryEvent, history
from fincert.domain.pin import MAX_PIN_FAILURES, PIN_ATTEMPT_LIFETIME, make_pin_verifier
from fincert.domain.pin_attempts import PinChecker
from fincert.domain.pin_unlocks import ReplacePin
from fincert.errors import InvalidRequest, Locked, PinAttemptInFlight

from tests.fakes.kms import FakeKeyManagement

if TYPE_CHECKING:
    from fincert.adapters.dynamodb.store import DynamoStore

    from tests.support.unit_store import DynamoTable, RecordingClient

HMAC = "hmac"
ACCOUNT = "acc_0123456789abcdef"
BANK = "demo-bank"
PIN, WRONG = "135792", "975313"
NOW = datetime(2026, 3, 14, 10, 20, 30, tzinfo=UTC)


@pytest.fixture
def kms() -> FakeKeyManagement:
    fake = FakeKeyManagement()
    fake.create_key(HMAC, "HMAC_256")
    return fake


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def pins(
    store: DynamoStore,
    kms: FakeKeyManagement,
    clock: FixedClock,
    dynamodb: RecordingClient,
    dynamodb_table: DynamoTable,
) -> PinChecker:
    item = {
        **keys.account(ACCOUNT).as_dict(),
        "person_index": "v1:person",
        "holder_suffix": "0123456789ab",
        "identity_ciphertext": b"ciphertext",
        "pin_verifier": make_pin_verifier(kms, HMAC, "v1:person", PIN),
        "pin_attempts": 0,
        "pin_cleared": 0,
        "pin_lock_at": MAX_PIN_FAILURES,
        "institutions": {BANK},
        "created_at": iso(NOW),
    }
    dynamodb_table.client.put_item(TableName=dynamodb_table.name, Item=dump_item(item))
    return PinChecker(store=store, kms=kms, hmac_key_id=HMAC, clock=clock)


def in_flight(store: DynamoStore, clock: FixedClock, n: int) -> None:
    """n attempts whose slot is reserved and whose PIN is not judged yet."""
    for _ in range(n):
        store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK)


def test_a_right_pin_after_five_attempts_in_flight_is_told_to_retry_and_takes_no_slot(pins, store, clock):
    in_flight(store, clock, MAX_PIN_FAILURES)
    with pytest.raises(PinAttemptInFlight) as refused:
        pins.check(ACCOUNT, PIN, BANK)
    assert refused.value.code == "pin_attempt_in_flight"
    assert refused.value.retry_after == 1
    assert store.get_account(ACCOUNT).pin_attempts == MAX_PIN_FAILURES, "no slot"


def test_locked_once_five_wrong_pins_are_judged_whatever_is_in_flight(pins, store, clock):
    in_flight(store, clock, 1)  # judged later, or never
    for _ in range(MAX_PIN_FAILURES - 1):
        with pytest.raises(InvalidRequest):
            pins.check(ACCOUNT, WRONG, BANK)
    # Four judged wrong and one in flight: the slots are full, not yet a lock.
    with pytest.raises(PinAttemptInFlight):
        pins.check(ACCOUNT, PIN, BANK)
    # The slot in flight is judged wrong (its request goes on): now five judged, locked.
    account = store.get_account(ACCOUNT)
    first = next(slot for slot in range(1, MAX_PIN_FAILURES + 1) if slot not in account.pin_wrong_slots)
    assert store.pin_judged_wrong(PinSlot(account, first)) is not None
    with pytest.raises(Locked):
        pins.check(ACCOUNT, PIN, BANK)


def test_attempts_never_judged_past_a_request_s_lifetime_count_as_failures(pins, store, clock):
    in_flight(store, clock, MAX_PIN_FAILURES)
    clock.at = NOW + PIN_ATTEMPT_LIFETIME
    with pytest.raises(PinAttemptInFlight):
        pins.check(ACCOUNT, PIN, BANK)
    clock.at = NOW + PIN_ATTEMPT_LIFETIME + timedelta(seconds=1)
    with pytest.raises(Locked):
        pins.check(ACCOUNT, PIN, BANK)


def test_a_wrong_pin_forgiven_by_a_later_right_one_is_not_marked(pins, store, clock, kms):
    # The wrong PIN reserves slot 1; a right PIN reserves slot 2 and is accepted before the
    # wrong one is judged: slot 1 is forgiven and its late judgement must not count.
    slot_one = store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK)
    pins.check(ACCOUNT, PIN, BANK).forgive()
    assert store.pin_judged_wrong(slot_one) is None
    assert store.get_account(ACCOUNT).pin_judged_failures == 0


# --- a reservation sent again (botocore's retry after a lost answer) ------------------------------
# Each reservation carries a token its retry sends unchanged; the account keeps the latest
# MAX_PIN_FAILURES tokens, and a reservation whose token is among them is answered with the slot
# it reserved, reserving nothing.


def test_a_reservation_sent_twice_reserves_one_slot_and_is_answered_with_it(pins, store, clock):
    first = store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK, token="retried")
    again = store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK, token="retried")
    assert (first.slot, again.slot) == (1, 1)
    assert store.get_account(ACCOUNT).pin_attempts == 1
    other = store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK, token="another")
    assert other.slot == 2


def test_a_retry_finds_its_slot_behind_the_others_while_a_new_request_is_refused(pins, store, clock):
    tokens = [f"request-{n}" for n in range(1, MAX_PIN_FAILURES + 1)]
    for token in tokens:
        store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK, token=token)
    # Every slot taken: each of those requests' retries gets its own slot back...
    for slot, token in enumerate(tokens, start=1):
        assert store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK, token=token).slot == slot
    # ... and another request, with a token of its own, is refused as before (attempts in flight).
    with pytest.raises(PinAttemptInFlight):
        pins.check(ACCOUNT, PIN, BANK)
    assert store.get_account(ACCOUNT).pin_attempts == MAX_PIN_FAILURES


def test_a_wrong_pin_retried_once_judged_counts_once(pins, store, clock):
    slot = store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK, token="judged")
    assert store.pin_judged_wrong(slot) is not None
    again = store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK, token="judged")
    assert again.slot == slot.slot
    account = store.get_account(ACCOUNT)
    assert (account.pin_failures, account.pin_judged_failures) == (1, 1)


def test_the_account_keeps_only_the_latest_reservation_tokens(pins, store, clock, dynamodb_table):
    # Correct PINs free the slots again and again; the tokens kept stay MAX_PIN_FAILURES.
    for _ in range(3 * MAX_PIN_FAILURES):
        pins.check(ACCOUNT, PIN, BANK).forgive()
    item = dynamodb_table.client.get_item(
        TableName=dynamodb_table.name, Key=dump_item(keys.account(ACCOUNT).as_dict())
    )["Item"]
    assert sum(1 for name in item if name.startswith("pin_rsv")) == MAX_PIN_FAILURES
    assert store.get_account(ACCOUNT).pin_failures == 0


def test_a_new_pin_forgets_the_tokens_with_the_count(pins, store, clock, kms):
    # The slots are numbered afresh: a token from before must not name a slot of the new count.
    store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK, token="before")
    new_pin = make_pin_verifier(kms, HMAC, "v1:person", "246813")
    entry = history(HistoryEvent.PIN_CHANGED, clock.now(), BANK)
    pins.check(ACCOUNT, PIN, BANK).accept(clock.now().date(), entry, ReplacePin(new_pin))
    assert store.get_account(ACCOUNT).pin_attempts == 0
    again = store.reserve_pin_attempt(ACCOUNT, clock.now(), institution_id=BANK, token="before")
    assert again.slot == 1
    assert store.get_account(ACCOUNT).pin_attempts == 1
