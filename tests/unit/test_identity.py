from datetime import date

import pytest
from fincert.domain.identity import Identity, normalise_birth_date, normalise_name, normalise_phone
from fincert.errors import InvalidRequest

TODAY = date(2026, 11, 25)


def test_name_is_nfc_normalised_and_whitespace_removed():
    decomposed = "\u1112\u1169\u11bc\u1100\u1175\u11af\u1103\u1169\u11bc"  # 홍길동 as conjoining jamo
    assert normalise_name(f" {decomposed} ") == "홍길동"
    assert normalise_name("홍 길\t동") == "홍길동"
    assert normalise_name("Kim Min-Jun") == "KimMin-Jun"


@pytest.mark.parametrize("bad", ["", "   ", "홍길동1", "a" * 41, "<script>"])
def test_bad_names_are_refused(bad):
    with pytest.raises(InvalidRequest) as refused:
        normalise_name(bad)
    assert refused.value.code == "name_invalid"


@pytest.mark.parametrize("typed", ["010-1234-5678", "01012345678", "+821012345678", "010 1234 5678"])
def test_phone_numbers_become_e164(typed):
    assert normalise_phone(typed) == "+821012345678"


@pytest.mark.parametrize("bad", ["02-123-4567", "+12025550123", "010-123", "phone", "0101234567890"])
def test_bad_phone_numbers_are_refused(bad):
    with pytest.raises(InvalidRequest) as refused:
        normalise_phone(bad)
    assert refused.value.code == "phone_invalid"


@pytest.mark.parametrize("bad", ["20231340", "19900230", "2023011", "abcdefgh", "18991231", "20270101"])
def test_impossible_or_out_of_range_birth_dates_are_refused(bad):
    with pytest.raises(InvalidRequest) as refused:
        normalise_birth_date(bad, today=TODAY)
    assert refused.value.code == "birth_date_invalid"


def test_leap_day_birth_date_is_valid():
    assert normalise_birth_date("20000229", today=TODAY) == "20000229"


def test_same_person_typed_differently_has_one_index_message():
    a = Identity.normalise("홍길동", "010-1234-5678", "19900101", today=TODAY)
    b = Identity.normalise(" 홍 길동", "+821012345678", "19900101", today=TODAY)
    assert a.person_index_message() == b.person_index_message()
    assert a.person_index_message().startswith(b"fincert-person-v1|")
    other = Identity.normalise("홍길동", "010-1234-5679", "19900101", today=TODAY)
    assert other.person_index_message() != a.person_index_message()
