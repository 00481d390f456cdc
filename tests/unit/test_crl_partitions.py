"""CRL partitions: a certificate's CRL is named by the ISO week of its notAfter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from fincert.crl_partitions import crl_partition, is_live, partition_week

THREE_YEARS = timedelta(days=3 * 366)


def test_partition_is_the_iso_week_of_not_after_in_utc():
    assert crl_partition(datetime(2029, 11, 19, 0, 0, tzinfo=UTC)) == "2029-w47"  # Monday
    assert crl_partition(datetime(2029, 11, 25, 23, 59, 59, tzinfo=UTC)) == "2029-w47"  # Sunday
    assert crl_partition(datetime(2029, 11, 26, 0, 0, tzinfo=UTC)) == "2029-w48"
    # KST Monday 08:00 is still Sunday in UTC: the certificate's notAfter is UTC.
    kst = timezone(timedelta(hours=9))
    assert crl_partition(datetime(2029, 11, 26, 8, 0, tzinfo=kst)) == "2029-w47"


def test_iso_years_differ_from_calendar_years_at_new_year():
    assert crl_partition(datetime(2029, 12, 31, tzinfo=UTC)) == "2030-w01"
    assert crl_partition(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-w53"
    assert partition_week("2026-w53") == (datetime(2026, 12, 28).date(), datetime(2027, 1, 3).date())


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        crl_partition(datetime(2029, 1, 1))


@pytest.mark.parametrize(
    "name", ["2029-w54", "2029-w00", "2029w47", "2029-W47", "../2029-w47", "", "2029-w4"]
)
def test_names_that_are_not_partitions(name):
    assert partition_week(name) is None
    assert not is_live(name, datetime(2029, 1, 1, tzinfo=UTC), THREE_YEARS)


def test_live_partitions_are_this_week_to_the_longest_validity():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert is_live(crl_partition(now), now, THREE_YEARS)
    assert is_live(crl_partition(now + THREE_YEARS), now, THREE_YEARS)
    assert not is_live(crl_partition(now - timedelta(days=7)), now, THREE_YEARS)
    assert not is_live(crl_partition(now + THREE_YEARS + timedelta(days=7)), now, THREE_YEARS)
