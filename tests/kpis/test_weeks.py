"""A window as its whole weeks and its other days (``kpis.weeks.split``): every day of the
window exactly once, weeks from Monday to Sunday, at most six other days at each end."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kpis import weeks


@given(st.dates(date(2025, 1, 1), date(2027, 12, 31)), st.integers(0, 120))
def test_a_window_is_its_whole_weeks_and_at_most_six_days_at_each_end(start, length):
    end = start + timedelta(days=length)
    whole, spans = weeks.split(start, end)
    days = []
    if whole is not None:
        first, last = whole
        assert first.weekday() == 0 and last.weekday() == 0 and first <= last
        days += [first + timedelta(days=i) for i in range((last - first).days + 7)]
    for a, b in spans:
        assert a <= b
        days += [a + timedelta(days=i) for i in range((b - a).days + 1)]
    assert sorted(days) == [start + timedelta(days=i) for i in range(length + 1)]  # each day once
    if whole is not None:
        assert all((b - a).days < 6 for a, b in spans)  # the ends: fewer than a week each
        assert len(spans) <= 2


def test_examples():
    monday, sunday = date(2026, 2, 2), date(2026, 3, 1)
    assert weeks.split(monday, sunday) == ((monday, date(2026, 2, 23)), [])
    assert weeks.split(date(2026, 1, 28), date(2026, 2, 10)) == (
        (monday, monday),
        [(date(2026, 1, 28), date(2026, 2, 1)), (date(2026, 2, 9), date(2026, 2, 10))],
    )
    assert weeks.split(date(2026, 2, 3), date(2026, 2, 9)) == (None, [(date(2026, 2, 3), date(2026, 2, 9))])
    assert weeks.week_of(date(2026, 2, 8)) == monday
