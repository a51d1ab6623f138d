"""Periods and deadlines (shared/domain/periods.py): the Civil Code's counting in each
unit, and the unit a deadline cannot be in."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.domain.catalogue.model import Span
from shared.domain.periods import add_months, deadline, last_day, period_end
from shared.domain.vocabulary import SpanUnit


def span(amount: int, unit: SpanUnit) -> Span:
    return Span(amount=amount, unit=unit)


def test_a_month_ends_on_the_corresponding_day_or_the_months_last() -> None:
    assert add_months(date(2026, 1, 15), 1) == date(2026, 2, 15)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)  # 第二百零二条
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)  # across the year
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_deadlines_in_each_unit_of_the_catalogue() -> None:
    start = date(2026, 1, 31)  # a Saturday; the starting day itself is not counted
    assert deadline(start, span(15, SpanUnit.CALENDAR_DAYS)) == date(2026, 2, 15)
    assert deadline(start, span(1, SpanUnit.MONTHS)) == date(2026, 2, 28)
    assert deadline(date(2028, 2, 29), span(1, SpanUnit.YEARS)) == date(2029, 2, 28)
    # 2026-02-02 (Mon) is the first working day; the fifth is Friday 02-06
    assert deadline(start, span(5, SpanUnit.WORKING_DAYS)) == date(2026, 2, 6)


def test_a_deadline_in_24_hour_days_is_refused_not_counted() -> None:
    # The loader refuses a catalogue deadline in `days`; counted anyway, 15 `days` would
    # silently equal 15 calendar days though the unit ends at an instant, not a day.
    with pytest.raises(ValueError, match=r"^days has no last day$"):
        deadline(date(2026, 3, 1), span(15, SpanUnit.DAYS))
    with pytest.raises(ValueError, match=r"^days has no last day$"):
        last_day(date(2026, 3, 1), span(15, SpanUnit.DAYS))


def test_a_period_in_days_keeps_the_instant_where_years_end_at_midnight() -> None:
    start = datetime(2026, 3, 1, 7, 30, tzinfo=UTC)  # 15:30 in China
    assert period_end(start, span(730, SpanUnit.DAYS)) == datetime(2028, 2, 29, 7, 30, tzinfo=UTC)
    # two years: to the end of 2028-03-01 in China (24:00 = 16:00 UTC)
    assert period_end(start, span(2, SpanUnit.YEARS)) == datetime(2028, 3, 1, 16, 0, tzinfo=UTC)
