"""Mainland China working days (DOMAIN.md §5: deadlines are counted in working days).

A day is a working day unless it is a weekend day or a statutory holiday (法定节假日),
except the weekend days worked instead (调休上班). The schedule of a year comes from the
first of these sources that knows it:

1. a data file ``<YYYY>.json`` in ``$JSB_CALENDAR_DIR`` (an operator's directory), or
   in the packaged ``shared/domain/data/calendar/`` (format in its README.md); such a
   file overrides the package below, so the State Council's notice for a new year can
   be added as data without a release;
2. the ``chinesecalendar`` package (import ``chinese_calendar``), which knows the years
   from 2004 up to the last one it has published (2026 in version 1.11.0);
3. otherwise weekends only: Monday–Friday are working days, and a
   :class:`CalendarFallbackWarning` is emitted once for each such year.

Files are validated when their year is first used (:class:`CalendarDataError`). Year
schedules are cached; :func:`reload_calendar_data` drops the cache (after a new file,
or a change of ``JSB_CALENDAR_DIR``).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import chinese_calendar

__all__ = [
    "CALENDAR_DIR_ENV",
    "PACKAGED_CALENDAR_DIR",
    "CalendarDataError",
    "CalendarFallbackWarning",
    "add_working_days",
    "calendar_source",
    "is_working_day",
    "load_year_file",
    "reload_calendar_data",
    "working_days_between",
]

CALENDAR_DIR_ENV = "JSB_CALENDAR_DIR"
PACKAGED_CALENDAR_DIR = Path(__file__).parent / "data" / "calendar"
_FILE_NAME = re.compile(r"([0-9]{4})\.json")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FILE_KEYS = frozenset({"year", "source", "holidays", "workdays"})


class CalendarFallbackWarning(UserWarning):
    """A year known to no data file and not to chinesecalendar: weekends only."""


class CalendarDataError(ValueError):
    """A calendar data file that is malformed; the message names the file and the fault."""


@dataclass(frozen=True)
class YearSchedule:
    """The published schedule of one year (one data file)."""

    year: int
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]


# --- data files -------------------------------------------------------------------


def load_year_file(path: Path) -> YearSchedule:
    """Read and validate one ``<YYYY>.json`` file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CalendarDataError(f"{path}: cannot read JSON: {error}") from error
    if not isinstance(data, dict):
        raise CalendarDataError(f"{path}: top level must be an object")
    if set(data) != _FILE_KEYS:
        raise CalendarDataError(
            f"{path}: keys must be exactly {sorted(_FILE_KEYS)}, got {sorted(data)}"
        )
    year, source = data["year"], data["source"]
    match = _FILE_NAME.fullmatch(path.name)
    if type(year) is not int or match is None or int(match.group(1)) != year:
        raise CalendarDataError(f"{path}: 'year' must be the integer in the file name")
    if not isinstance(source, str) or not source.strip():
        raise CalendarDataError(f"{path}: 'source' must name the published notice")
    holidays = _dates(path, year, "holidays", data["holidays"])
    workdays = _dates(path, year, "workdays", data["workdays"])
    both = holidays & workdays
    if both:
        raise CalendarDataError(f"{path}: {min(both)} is both a holiday and a workday")
    weekday_workdays = [d for d in workdays if d.weekday() < 5]
    if weekday_workdays:
        raise CalendarDataError(
            f"{path}: workdays[] lists weekend days worked instead; "
            f"{min(weekday_workdays)} is a weekday"
        )
    return YearSchedule(year, source, holidays, workdays)


def _dates(path: Path, year: int, key: str, items: Any) -> frozenset[date]:
    if not isinstance(items, list):
        raise CalendarDataError(f"{path}: '{key}' must be a list of YYYY-MM-DD strings")
    days: set[date] = set()
    for index, item in enumerate(items):
        where = f"{path}: {key}[{index}]"
        if not isinstance(item, str) or not _ISO_DATE.fullmatch(item):
            raise CalendarDataError(f"{where}: {item!r} is not a YYYY-MM-DD string")
        try:
            day = date.fromisoformat(item)
        except ValueError as error:
            raise CalendarDataError(f"{where}: {item!r} is not a real date") from error
        if day.year != year:
            raise CalendarDataError(f"{where}: {item} is outside the file's year {year}")
        if day in days:
            raise CalendarDataError(f"{where}: {item} is listed twice")
        days.add(day)
    return frozenset(days)


@cache
def _year_files() -> dict[int, Path]:
    """``{year: file}``; a file in ``$JSB_CALENDAR_DIR`` wins over a packaged one."""
    directories = [PACKAGED_CALENDAR_DIR]
    extra = os.environ.get(CALENDAR_DIR_ENV)
    if extra:
        directories.append(Path(extra))
    files: dict[int, Path] = {}
    for directory in directories:
        if directory.is_dir():
            for path in sorted(directory.iterdir()):
                match = _FILE_NAME.fullmatch(path.name)
                if match:
                    files[int(match.group(1))] = path
    return files


# --- per-year tables --------------------------------------------------------------


@dataclass(frozen=True)
class _YearTable:
    """The working days of one year as sorted ordinals, for bisection."""

    source: str
    ordinals: tuple[int, ...]
    members: frozenset[int]


@cache
def _table(year: int) -> _YearTable:
    first = date(year, 1, 1)
    days = [first + timedelta(n) for n in range((date(year, 12, 31) - first).days + 1)]
    path = _year_files().get(year)
    if path is not None:
        schedule = load_year_file(path)
        working = [
            d
            for d in days
            if d in schedule.workdays or (d.weekday() < 5 and d not in schedule.holidays)
        ]
        return _make_table(f"file {path} ({schedule.source})", working)
    try:
        working = [d for d in days if chinese_calendar.is_workday(d)]
    except NotImplementedError:
        warnings.warn(
            f"no holiday schedule for {year}: counting weekends only "
            f"(add {year}.json to ${CALENDAR_DIR_ENV} or upgrade chinesecalendar)",
            CalendarFallbackWarning,
            stacklevel=2,
        )
        return _make_table("weekends only (fallback)", [d for d in days if d.weekday() < 5])
    return _make_table(f"chinesecalendar {chinese_calendar.__version__}", working)


def _make_table(source: str, working: list[date]) -> _YearTable:
    ordinals = tuple(d.toordinal() for d in working)
    return _YearTable(source, ordinals, frozenset(ordinals))


def reload_calendar_data() -> None:
    """Forget cached schedules and the file list (re-reads ``$JSB_CALENDAR_DIR``)."""
    _year_files.cache_clear()
    _table.cache_clear()


def calendar_source(year: int) -> str:
    """Where the schedule of ``year`` comes from (a file, chinesecalendar, fallback)."""
    return _table(year).source


# --- the public arithmetic --------------------------------------------------------


def is_working_day(d: date) -> bool:
    """True when ``d`` is a working day in mainland China."""
    return d.toordinal() in _table(d.year).members


def _count_upto(ordinal: int, year: int) -> int:
    """Working days of ``year`` on or before ``ordinal`` (which lies in ``year``)."""
    return bisect_right(_table(year).ordinals, ordinal)


def working_days_between(start: date, end: date) -> int:
    """Working days in ``(start, end]`` when ``end >= start``; minus those in
    ``[end, start)`` when ``end < start``.

    This is the inverse of :func:`add_working_days` for every ``n``:
    ``working_days_between(d, add_working_days(d, n)) == n``. It is not antisymmetric
    when exactly one of the two dates is a working day.
    """
    if end < start:
        # [end, start) = (end, start] + end - start, without stepping below date.min
        inside = _count_in(end.toordinal(), start.toordinal())
        return -(inside + is_working_day(end) - is_working_day(start))
    return _count_in(start.toordinal(), end.toordinal())


def _count_in(after: int, upto: int) -> int:
    """Working days with ordinal in ``(after, upto]``, ``after <= upto``."""
    low, high = date.fromordinal(after), date.fromordinal(upto)
    total = _count_upto(upto, high.year) - _count_upto(after, low.year)
    for year in range(low.year, high.year):
        total += len(_table(year).ordinals)
    return total


def add_working_days(d: date, n: int) -> date:
    """The ``n``-th working day after ``d`` (``d`` itself not counted).

    ``n == 0`` returns ``d`` unchanged, even on a holiday. A negative ``n`` gives the
    ``-n``-th working day before ``d``. Raises ``OverflowError`` past the ``date`` range.
    """
    year, ordinal = d.year, d.toordinal()
    if n > 0:
        index = _count_upto(ordinal, year) + n - 1  # index in the year's working days
        while index >= len(_table(year).ordinals):
            index -= len(_table(year).ordinals)
            year = _next_year(year, 1)
    elif n < 0:
        index = bisect_right(_table(year).ordinals, ordinal - 1) + n
        while index < 0:
            year = _next_year(year, -1)
            index += len(_table(year).ordinals)
    else:
        return d
    return date.fromordinal(_table(year).ordinals[index])


def _next_year(year: int, step: int) -> int:
    year += step
    if not date.min.year <= year <= date.max.year:
        raise OverflowError("working-day arithmetic left the supported date range")
    return year
