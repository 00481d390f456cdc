"""The PIN through the API: 5 consecutive wrong PINs lock it, a correct PIN before that resets the
count, a locked PIN refuses even the right one until the institution re-verifies the customer;
PIN change and reset are audited and notify the customer."""

from __future__ import annotations

from datetime import timedelta

from fincert.domain.pin import PIN_ATTEMPT_LIFETIME
from fincert.wiring import services
from fincert_local.gateway import recorded_sms

from tests.support.customers import Customer, connected, enroll
from tests.support.in_process import REGION, Api
from tests.support.people import PHONE
from tests.support.table import account_item, is_account, is_credential, table_items

WRONG = "975313"


def _account(aws, customer: Customer) -> dict:
    assert aws.refs["FincertTable"] == services().settings.table_name
    return account_item(customer.account_id)


def _failures(aws, customer: Customer) -> int:
    item = _account(aws, customer)
    return int(item["pin_attempts"]) - int(item["pin_cleared"])


def _error(response) -> str:
    body = response.json()
    return body["error"] if isinstance(body["error"], str) else body["error"]["code"]


def test_wrong_pins_count_down_and_the_fifth_locks(api, aws):
    customer = connected(api)
    outcomes = [customer.authorize(pin=WRONG) for _ in range(5)]
    assert [(r.status, _error(r)) for r in outcomes] == [(400, "pin_invalid")] * 4 + [(403, "pin_locked")]
    assert _failures(aws, customer) == 5
    right = customer.authorize()
    assert (right.status, _error(right)) == (403, "pin_locked")
    assert _failures(aws, customer) == 5  # a refused attempt reserves nothing


def test_a_correct_pin_before_the_fifth_resets_the_count(api, aws):
    customer = connected(api)
    for _ in range(4):
        assert customer.authorize(pin=WRONG).status == 400
    assert customer.authorize().status == 200
    assert _failures(aws, customer) == 0
    for _ in range(4):
        assert customer.authorize(pin=WRONG).status == 400
    assert customer.authorize().status == 200


def test_failures_are_in_the_history(api):
    customer = connected(api)
    customer.authorize(pin=WRONG)
    customer.authorize()
    events = [e["event"] for e in customer.call("GET", "/v1/history").json()["entries"]]
    assert events[:2] == ["authorized", "authorization_failed"]


def test_malformed_pins_are_refused_without_using_an_attempt(api, aws, aws_calls):
    customer = connected(api)
    aws_calls.clear()
    for pin in ["12345", "1234567", "12345a", "١٢٣٤٥٦"]:
        response = customer.authorize(pin=pin)
        assert (response.status, _error(response)) == (400, "pin_format"), pin
    assert _failures(aws, customer) == 0
    assert not any(c.startswith("kms.") for c in aws_calls.calls)


def test_pin_reset_after_re_verification_unlocks_with_the_new_pin(api, aws):
    customer = connected(api)
    for _ in range(5):
        customer.authorize(pin=WRONG)
    started = api.post("/v1/pin-resets", customer.identity)
    assert started.status == 201
    code = api.last_sms_code(customer.phone)
    reset = api.post(
        f"/v1/pin-resets/{started.json()['verification_id']}/confirm", {"sms_code": code, "new_pin": "246813"}
    )
    assert reset.status == 204, reset.body
    assert "재설정" in recorded_sms(customer.phone, REGION)[-1]
    assert _failures(aws, customer) == 0
    assert _error(customer.authorize()) == "pin_invalid"  # the old PIN is gone
    assert customer.authorize(pin="246813").status == 200
    events = [e["event"] for e in customer.call("GET", "/v1/history").json()["entries"]]
    assert "pin_reset" in events


def test_pin_reset_refuses_a_weak_pin_before_using_the_code(api):
    customer = connected(api)
    started = api.post("/v1/pin-resets", customer.identity).json()
    code = api.last_sms_code(customer.phone)
    for pin, error in [
        ("111111", "pin_repeated_digits"),
        ("123456", "pin_sequential"),
        ("900101", "pin_birth_date"),
    ]:
        response = api.post(
            f"/v1/pin-resets/{started['verification_id']}/confirm", {"sms_code": code, "new_pin": pin}
        )
        assert (response.status, _error(response)) == (400, error)
    ok = api.post(
        f"/v1/pin-resets/{started['verification_id']}/confirm", {"sms_code": code, "new_pin": "246813"}
    )
    assert ok.status == 204


def test_pin_reset_is_only_for_an_institution_the_certificate_is_registered_with(api, gateway, other_bank):
    customer = connected(api)
    other = Api(gateway, other_bank["api_key"])
    started = other.post("/v1/pin-resets", customer.identity).json()
    code = other.last_sms_code(customer.phone)
    response = other.post(
        f"/v1/pin-resets/{started['verification_id']}/confirm", {"sms_code": code, "new_pin": "246813"}
    )
    assert (response.status, _error(response)) == (404, "certificate_not_found")
    assert customer.authorize().status == 200  # the PIN did not change


def test_pin_change_needs_the_current_pin_and_notifies(api, aws):
    customer = connected(api)
    wrong_old = customer.call("PUT", "/v1/pin", {"pin": WRONG, "new_pin": "246813"})
    assert (wrong_old.status, _error(wrong_old)) == (400, "pin_invalid")
    weak_new = customer.call("PUT", "/v1/pin", {"pin": customer.pin, "new_pin": "000000"})
    assert (weak_new.status, _error(weak_new)) == (400, "pin_repeated_digits")
    changed = customer.call("PUT", "/v1/pin", {"pin": customer.pin, "new_pin": "246813"})
    assert changed.status == 204, changed.body
    assert "변경" in recorded_sms(customer.phone, REGION)[-1]
    assert _failures(aws, customer) == 0  # the wrong old PIN above no longer counts
    assert _error(customer.authorize()) == "pin_invalid"
    assert customer.authorize(pin="246813").status == 200


def test_reissue_sets_a_new_pin_and_clears_a_lock(api, aws):
    customer = connected(api)
    for _ in range(5):
        customer.authorize(pin=WRONG)
    customer.pin = "246813"
    customer.issue()
    assert _failures(aws, customer) == 0
    assert customer.authorize().status == 200


# CUSTOMER's mobile number is 010-1234-5678: 01012345678 in its national form. Six consecutive
# digits of it that no other PIN rule refuses (012345 and the like are already sequential).
PHONE_PINS = ["010123", "101234"]


def test_a_pin_taken_from_the_mobile_number_is_refused_at_issuance_and_nothing_is_issued(api, svc):
    enrollment_id = enroll(api)
    code = api.last_sms_code(PHONE)
    for pin in PHONE_PINS:
        before = table_items(svc)
        response = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": pin})
        assert (response.status, _error(response)) == (400, "pin_phone_number")
        assert pin not in response.body.decode()
        assert not [i for i in table_items(svc) if is_credential(i) or is_account(i)]
        assert len(table_items(svc)) == len(before)
    # The refusal used none of the customer's SMS attempts: the same code issues with a good PIN.
    ok = api.post(f"/v1/enrollments/{enrollment_id}/confirm", {"sms_code": code, "pin": "135790"})
    assert ok.status == 201, ok.body


def test_a_pin_taken_from_the_mobile_number_is_refused_at_pin_change_before_any_attempt(api, aws):
    customer = connected(api)
    before = _account(aws, customer)
    for pin in PHONE_PINS:
        response = customer.call("PUT", "/v1/pin", {"pin": customer.pin, "new_pin": pin})
        assert (response.status, _error(response)) == (400, "pin_phone_number")
    assert _account(aws, customer) == before, "no attempt reserved, no PIN written"
    assert customer.authorize().status == 200  # the old PIN still works


def test_a_pin_taken_from_the_mobile_number_is_refused_at_pin_reset_before_using_the_code(api):
    customer = connected(api)
    started = api.post("/v1/pin-resets", customer.identity).json()
    code = api.last_sms_code(customer.phone)
    for pin in PHONE_PINS:
        response = api.post(
            f"/v1/pin-resets/{started['verification_id']}/confirm", {"sms_code": code, "new_pin": pin}
        )
        assert (response.status, _error(response)) == (400, "pin_phone_number")
    assert customer.authorize().status == 200  # the PIN did not change
    ok = api.post(
        f"/v1/pin-resets/{started['verification_id']}/confirm", {"sms_code": code, "new_pin": "246813"}
    )
    assert ok.status == 204


# --- more attempts than slots: answered "in flight", never "locked" before 5 wrong PINs are judged
def _in_flight(customer: Customer, n: int) -> None:
    """n attempts that reserved their slot and are still being judged (their requests have not
    reached KMS yet): reserved as PinChecker reserves them, never judged."""
    svc = services()
    for _ in range(n):
        svc.store.reserve_pin_attempt(customer.account_id, svc.clock.now(), institution_id="demo-bank")


def test_a_right_pin_beyond_the_slots_in_flight_is_told_to_retry_not_locked(api, aws, clock):
    customer = connected(api)
    _in_flight(customer, 4)
    wrong = customer.authorize(pin=WRONG)  # the fifth slot, judged wrong: not locked yet
    assert (wrong.status, _error(wrong)) == (400, "pin_invalid")
    assert wrong.json()["error_description"]
    before = _account(aws, customer)

    right = customer.authorize()
    assert (right.status, _error(right)) == (409, "pin_attempt_in_flight")
    assert right.header("Retry-After") == "1"
    assert _account(aws, customer) == before, "no slot, no write"
    # The window's and the bank API's routes answer the same, in their own error shape.
    signed = customer.sign_content("로그인", "raw")
    assert (signed.status, _error(signed)) == (409, "pin_attempt_in_flight")

    # Attempts never judged past any request's lifetime were cut short: they count as failures
    # (the one leftover a fault may leave), so now the PIN is locked.
    clock.at = clock.now() + PIN_ATTEMPT_LIFETIME + timedelta(seconds=1)
    locked = customer.authorize()
    assert (locked.status, _error(locked)) == (403, "pin_locked")


def test_the_fifth_wrong_pin_judged_locks_even_while_attempts_are_in_flight(api, aws):
    customer = connected(api)
    for _ in range(4):
        assert _error(customer.authorize(pin=WRONG)) == "pin_invalid"
    last = customer.authorize(pin=WRONG)
    assert (last.status, _error(last)) == (403, "pin_locked")
    right = customer.authorize()
    assert (right.status, _error(right)) == (403, "pin_locked"), "5 judged wrong: locked, no retry"


def test_a_right_pin_in_flight_forgives_and_the_wrong_marks_before_it_are_dropped(api, aws):
    customer = connected(api)
    for _ in range(3):
        customer.authorize(pin=WRONG)
    assert len(_account(aws, customer)["pin_wrong_slots"]) == 3
    assert customer.authorize().status == 200
    item = _account(aws, customer)
    assert "pin_wrong_slots" not in item, "a correct PIN drops the marks it forgave: the set stays small"
    # A PIN reset drops them as well (and restarts the numbering they refer to).
    customer.authorize(pin=WRONG)
    assert _account(aws, customer)["pin_wrong_slots"]
    started = api.post("/v1/pin-resets", customer.identity)
    code = api.last_sms_code(customer.phone)
    reset = api.post(
        f"/v1/pin-resets/{started.json()['verification_id']}/confirm", {"sms_code": code, "new_pin": "246813"}
    )
    assert reset.status == 204
    assert "pin_wrong_slots" not in _account(aws, customer)


def test_the_right_pin_registering_a_revoked_certificate_elsewhere_is_refused_and_not_counted(
    api, aws, gateway, other_bank
):
    customer = connected(api)
    revoked = customer.call("POST", "/v1/certificate/status", {"action": "revoke", "pin": customer.pin})
    assert revoked.status == 200, revoked.body
    at_other = Customer(Api(gateway, other_bank["api_key"]), customer.identity, pin=customer.pin)
    at_other.connect()
    for _ in range(5):
        response = at_other.register_here()
        assert (response.status, _error(response)) == (404, "certificate_not_found")
    assert _failures(aws, customer) == 0, "the right PIN is never counted as a wrong one"
