"""The jobs' time rules (fincert.domain.schedule), in KST calendar days."""

from datetime import UTC, date, datetime

from fincert.crypto.x509_profile import certificate_validity
from fincert.domain.schedule import is_expired, may_purge, purge_day, renewal_window_start, warning_day


def test_the_renewal_window_opens_30_kst_days_before_the_notafter_day():
    # 20:00 UTC on 24 November is already 25 November in Seoul.
    assert renewal_window_start(datetime(2029, 11, 24, 20, 0, tzinfo=UTC)) == date(2029, 10, 26)
    assert renewal_window_start(datetime(2029, 11, 24, 14, 59, tzinfo=UTC)) == date(2029, 10, 25)


def test_a_leap_day_certificate_ends_feb_28_and_its_window_counts_from_there():
    _, not_after = certificate_validity(datetime(2028, 2, 29, 3, 0, tzinfo=UTC))
    assert not_after == datetime(2031, 2, 28, 2, 59, 59, tzinfo=UTC)
    assert renewal_window_start(not_after) == date(2031, 1, 29)


def test_notafter_is_the_last_valid_second():
    not_after = datetime(2029, 11, 25, 0, 59, 59, tzinfo=UTC)
    assert not is_expired(not_after, not_after)
    assert is_expired(not_after, datetime(2029, 11, 25, 1, 0, tzinfo=UTC))


def test_idle_days_count_calendar_days_across_a_leap_year():
    last_used = date(2027, 3, 1)  # 2028 has a 29 February inside the year
    assert purge_day(last_used) == date(2028, 2, 29)
    assert warning_day(last_used) == date(2028, 1, 30)


def test_a_purge_waits_for_day_365_and_30_days_after_the_warning():
    last_used = date(2026, 11, 25)
    assert not may_purge(last_used, date(2027, 10, 26), date(2027, 11, 24))
    assert may_purge(last_used, date(2027, 10, 26), date(2027, 11, 25))
    assert not may_purge(last_used, None, date(2028, 1, 1)), "never without a warning"
    assert not may_purge(last_used, date(2027, 11, 10), date(2027, 11, 25)), "a late warning gives 30 days"
    assert may_purge(last_used, date(2027, 11, 10), date(2027, 12, 10))
