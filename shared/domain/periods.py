"""Periods and deadlines in the unit their document states (issue 9, item 5).

The rules of counting are those of the Civil Code (民法典):

- 第二百零一条: a period in years, months or days starts counting the day after its
  starting day (the starting day itself is not counted);
- 第二百零二条: a period in years or months ends on the corresponding day of the last
  month (the anniversary day); when that month has no such day, on its last day;
- 第二百零三条: the last day ends at 24:00 (here: 24:00 China Standard Time).

So a two-year listing from 2026-03-01 runs to the end of 2028-03-01 China time, where
730 days from the same instant would end at 2028-02-29 00:00. `days` (whole 24-hour
days from the starting instant) is kept for periods of regimes whose data predates
units; a deadline is never in `days`.

Working-day deadlines use the mainland-China calendar; a deadline that reaches a year
whose holiday arrangement is not loaded is counted on weekends only, and
`calendar_gaps` names those years so an answer can say so (not only the log).
"""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, timedelta

from shared.domain.calendar import add_working_days, calendar_source
from shared.domain.catalogue.model import Span
from shared.domain.china_time import china_date, start_of_china_day, utc
from shared.domain.vocabulary import SpanUnit

FALLBACK_SOURCE_PREFIX = "weekends only"


def add_months(day: date, months: int) -> date:
    """The corresponding day `months` later; the month's last day when it has none."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def last_day(start: date, span: Span) -> date:
    """The last day of a period of calendar units that starts on `start` (not counted)."""
    if span.unit is SpanUnit.YEARS:
        return add_months(start, 12 * span.amount)
    if span.unit is SpanUnit.MONTHS:
        return add_months(start, span.amount)
    if span.unit is SpanUnit.CALENDAR_DAYS:
        return start + timedelta(days=span.amount)
    if span.unit is SpanUnit.WORKING_DAYS:
        return add_working_days(start, span.amount)
    raise ValueError(f"{span.unit.value} has no last day")


def period_end(start: datetime, span: Span) -> datetime:
    """The instant (UTC) a period starting at `start` ends.

    `days`: `start` plus whole days (the instant is kept). Every other unit: the end of
    its last day in China time (24:00, i.e. 00:00 of the next day)."""
    if span.unit is SpanUnit.DAYS:
        return utc(start + timedelta(days=span.amount))
    end = last_day(china_date(start), span)
    return utc(start_of_china_day(end + timedelta(days=1)))


def deadline(start: date, span: Span) -> date:
    """The last day to act when a deadline of `span` starts on `start` (not counted).

    A catalogue's deadlines are in working or calendar days (its loader refuses other
    units). A span in `days` ends at an instant, not at the end of a day: it has no last
    day, and raises `ValueError` like `last_day`."""
    return last_day(start, span)


def calendar_gaps(start: date, end: date) -> tuple[int, ...]:
    """The years in `[start, end]` whose holiday arrangement is not loaded (working
    days there are counted on weekends only)."""
    low, high = sorted((start, end))
    return tuple(
        year
        for year in range(low.year, high.year + 1)
        if calendar_source(year).startswith(FALLBACK_SOURCE_PREFIX)
    )


def calendar_warning(start: date, end: date) -> str | None:
    """A sentence for an answer whose working-day deadline reaches an unloaded year."""
    gaps = calendar_gaps(start, end)
    if not gaps:
        return None
    years = ", ".join(str(y) for y in gaps)
    return (
        f"no holiday arrangement is loaded for {years}: working days there are counted "
        "on weekends only; the deadline may move when the State Council's notice is added"
    )
