"""The retention rule (docs/records.md): audit entries are kept 5 years past the later of the
event and the certificate's end, fixed when written; serial records 5 years past notAfter."""

from __future__ import annotations

from datetime import UTC, datetime

from fincert.domain.retention import audit_retained_until, serial_retained_until

EVENT = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
NOT_AFTER = datetime(2029, 11, 25, 14, 29, 59, tzinfo=UTC)


def _five_years_after(moment: datetime) -> datetime:
    return moment.replace(year=moment.year + 5)


def test_an_event_during_the_validity_is_kept_five_years_past_not_after():
    assert audit_retained_until(EVENT, NOT_AFTER) >= _five_years_after(NOT_AFTER)
    assert audit_retained_until(EVENT, NOT_AFTER) == serial_retained_until(NOT_AFTER)


def test_an_event_after_the_certificate_ended_is_kept_five_years_past_the_event():
    late = datetime(2030, 3, 1, tzinfo=UTC)  # e.g. a wrong PIN tried on an expired certificate
    assert audit_retained_until(late, NOT_AFTER) >= _five_years_after(late)
    assert audit_retained_until(late, NOT_AFTER) < audit_retained_until(late, None)


def test_with_no_certificate_known_the_longest_validity_is_assumed():
    longest_certificate = datetime(2029, 11, 25, 14, 29, 59, tzinfo=UTC)  # issued at the event
    assert audit_retained_until(EVENT, None) >= _five_years_after(longest_certificate)


def test_five_calendar_years_are_covered_from_a_leap_day():
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    assert serial_retained_until(leap) >= datetime(2033, 3, 1, tzinfo=UTC)
