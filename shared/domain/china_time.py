"""China Standard Time (UTC+8): where instants become calendar dates.

Instants are stored in UTC; decision dates and working-day deadlines are dates in
China Standard Time (ARCHITECTURE.md §3). Mainland China has no daylight saving, so a
fixed offset is exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")


def china_date(instant: datetime) -> date:
    """The calendar date in China of an aware instant."""
    return instant.astimezone(CHINA_TZ).date()


def utc(instant: datetime) -> datetime:
    """The same instant in UTC (instants are stored in UTC)."""
    return instant.astimezone(UTC)


def start_of_china_day(day: date) -> datetime:
    """00:00 China time of `day`, as an aware instant."""
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ)
