import pytest
from fincert.domain.pin import (
    check_pin_not_birth_date,
    check_pin_not_phone_number,
    check_pin_shape,
    pin_verifier_message,
)
from fincert.errors import WeakPin


@pytest.mark.parametrize("pin", ["135790", "024680", "890123", "112233", "123457", "098765"])
def test_acceptable_pins_pass(pin):
    check_pin_shape(pin)


@pytest.mark.parametrize(
    ("pin", "code"),
    [
        ("12345", "pin_format"),
        ("1234567", "pin_format"),
        ("12a456", "pin_format"),
        ("１２３４５６", "pin_format"),  # full-width digits are not ASCII digits
        ("", "pin_format"),
        ("111111", "pin_repeated_digits"),
        ("000000", "pin_repeated_digits"),
        ("123456", "pin_sequential"),
        ("456789", "pin_sequential"),
        ("987654", "pin_sequential"),
        ("543210", "pin_sequential"),
    ],
)
def test_weak_pins_are_refused_with_their_own_code(pin, code):
    with pytest.raises(WeakPin) as refused:
        check_pin_shape(pin)
    assert refused.value.code == code


def test_runs_do_not_wrap_around():
    check_pin_shape("890123")
    check_pin_shape("901234")
    check_pin_shape("210987")


@pytest.mark.parametrize("pin", ["900131", "013190", "310190"])
def test_birth_date_in_any_common_order_is_refused(pin):
    with pytest.raises(WeakPin) as refused:
        check_pin_not_birth_date(pin, "19900131")
    assert refused.value.code == "pin_birth_date"


def test_other_dates_pass_the_birth_date_rule():
    check_pin_not_birth_date("900132", "19900131")
    check_pin_not_birth_date("199001", "19900131")


def test_verifier_message_binds_person_and_version():
    a = pin_verifier_message("v1:aa", "135790")
    b = pin_verifier_message("v1:bb", "135790")
    assert a != b
    assert a.startswith(b"fincert-pin-v1|")


@pytest.mark.parametrize("phone", ["+821012345678", "+82101234567"])
def test_six_consecutive_digits_of_the_mobile_number_are_refused(phone):
    national = "0" + phone.removeprefix("+82")
    for start in range(len(national) - 5):
        with pytest.raises(WeakPin) as refused:
            check_pin_not_phone_number(national[start : start + 6], phone)
        assert refused.value.code == "pin_phone_number"
        assert national[start : start + 6] not in refused.value.message


@pytest.mark.parametrize("pin", ["135790", "821012", "102345", "567801"])
def test_other_pins_are_not_the_phone_number(pin):
    check_pin_not_phone_number(pin, "+821012345678")
