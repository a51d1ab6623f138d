"""shared.domain.calendar: mainland-China working days, data files, fallback."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import calendar
from shared.domain.calendar import (
    CALENDAR_DIR_ENV,
    CalendarDataError,
    CalendarFallbackWarning,
    add_working_days,
    calendar_source,
    is_working_day,
    load_year_file,
    reload_calendar_data,
    working_days_between,
)

FALLBACK_YEAR = 2100  # far beyond any chinesecalendar release


@pytest.fixture(autouse=True)
def _fresh_calendar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(CALENDAR_DIR_ENV, raising=False)
    reload_calendar_data()
    yield
    monkeypatch.delenv(CALENDAR_DIR_ENV, raising=False)
    reload_calendar_data()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CALENDAR_DIR_ENV, str(tmp_path))
    reload_calendar_data()
    return tmp_path


def write_year(directory: Path, file_year: int, /, **fields: Any) -> Path:
    content: dict[str, Any] = {"year": file_year, "source": "test notice"}
    content |= {"holidays": [], "workdays": []} | fields
    path = directory / f"{file_year}.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def naive_add(d: date, n: int) -> date:
    step = 1 if n >= 0 else -1
    for _ in range(abs(n)):
        d += timedelta(step)
        while not is_working_day(d):
            d += timedelta(step)
    return d


# --- chinesecalendar years -------------------------------------------------------


def test_national_day_2024() -> None:
    for day in range(1, 8):
        assert not is_working_day(date(2024, 10, day))
    assert is_working_day(date(2024, 9, 29))  # Sunday worked instead
    assert is_working_day(date(2024, 10, 12))  # Saturday worked instead
    assert add_working_days(date(2024, 9, 30), 1) == date(2024, 10, 8)
    assert working_days_between(date(2024, 9, 30), date(2024, 10, 8)) == 1
    assert add_working_days(date(2024, 10, 8), -1) == date(2024, 9, 30)
    assert calendar_source(2024) == f"chinesecalendar {chinese_calendar.__version__}"


def test_plain_weekend_and_weekday() -> None:
    assert not is_working_day(date(2024, 6, 1))  # Saturday
    assert is_working_day(date(2024, 6, 3))  # Monday


@settings(deadline=None)
@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_agrees_with_chinesecalendar(d: date) -> None:
    assert is_working_day(d) == chinese_calendar.is_workday(d)


# --- arithmetic ------------------------------------------------------------------


def test_add_zero_returns_the_day_even_on_a_holiday() -> None:
    assert add_working_days(date(2024, 10, 1), 0) == date(2024, 10, 1)


def test_add_counts_from_a_holiday() -> None:
    assert add_working_days(date(2024, 10, 3), 1) == date(2024, 10, 8)
    assert add_working_days(date(2024, 10, 3), -1) == date(2024, 9, 30)


def test_add_across_years() -> None:
    assert add_working_days(date(2023, 12, 29), 1) == date(2024, 1, 2)
    assert add_working_days(date(2024, 1, 2), -1) == date(2023, 12, 29)
    d = date(2020, 6, 15)
    assert add_working_days(d, 1000) == naive_add(d, 1000)
    assert add_working_days(d, -1000) == naive_add(d, -1000)


def test_between_across_years_and_backwards() -> None:
    assert working_days_between(date(2023, 12, 29), date(2024, 1, 2)) == 1
    assert working_days_between(date(2024, 1, 2), date(2023, 12, 29)) == -1
    assert working_days_between(date(2024, 5, 5), date(2024, 5, 5)) == 0
    # (Sat, Mon]: one working day; backwards [Sat, Mon): none.
    assert working_days_between(date(2024, 6, 1), date(2024, 6, 3)) == 1
    assert working_days_between(date(2024, 6, 3), date(2024, 6, 1)) == 0


def test_a_year_of_working_days_agrees_with_a_walk_over_the_days() -> None:
    """The tables by year give the answers a walk day by day gives (their speed
    against that walk is measured in tests/bench/test_calendar_bench.py)."""
    start, first, last = date(2024, 1, 1), date(2020, 1, 1), date(2026, 12, 31)
    year_later = add_working_days(start, 365)
    counted = working_days_between(first, last)
    assert is_working_day(year_later)
    walked = [start + timedelta(days=i) for i in range(1, (year_later - start).days + 1)]
    assert sum(map(is_working_day, walked)) == 365
    days = [first + timedelta(days=i) for i in range(1, (last - first).days + 1)]
    assert counted == sum(map(is_working_day, days))


@settings(deadline=None)
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=-800, max_value=800),
)
def test_between_inverts_add(d: date, n: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalendarFallbackWarning)
        assert working_days_between(d, add_working_days(d, n)) == n


@settings(deadline=None, max_examples=50)
@given(
    st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 6, 30)),
    st.integers(min_value=-60, max_value=60),
)
def test_add_matches_day_by_day_stepping(d: date, n: int) -> None:
    result = add_working_days(d, n)
    assert result == naive_add(d, n)
    if n != 0:
        assert is_working_day(result)


@settings(deadline=None)
@given(
    st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 12, 31)),
    st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 12, 31)),
)
def test_add_inverts_between_on_working_days(a: date, b: date) -> None:
    if is_working_day(b) or a == b:
        assert add_working_days(a, working_days_between(a, b)) == b


def test_date_range_limits() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalendarFallbackWarning)
        with pytest.raises(OverflowError):
            add_working_days(date(9999, 12, 30), 5)
        with pytest.raises(OverflowError):
            add_working_days(date(1, 1, 2), -5)
        assert working_days_between(date.min, date(1, 1, 8)) == 5  # Mon 1 Jan, year 1
        assert working_days_between(date(1, 1, 8), date.min) == -5


# --- fallback --------------------------------------------------------------------


def test_fallback_counts_weekends_only_and_warns_once_per_year() -> None:
    with pytest.warns(CalendarFallbackWarning, match=str(FALLBACK_YEAR)):
        assert is_working_day(date(FALLBACK_YEAR, 1, 1))  # a Friday, holiday unknown
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not is_working_day(date(FALLBACK_YEAR, 1, 2))  # Saturday, no new warning
        assert calendar_source(FALLBACK_YEAR) == "weekends only (fallback)"


def test_years_before_chinesecalendar_fall_back_too() -> None:
    with pytest.warns(CalendarFallbackWarning, match="2003"):
        assert is_working_day(date(2003, 10, 1))


# --- data files ------------------------------------------------------------------


def test_data_file_defines_a_new_year(data_dir: Path) -> None:
    write_year(
        data_dir,
        FALLBACK_YEAR,
        holidays=["2100-01-01", "2100-01-04"],
        workdays=["2100-01-09"],  # a Saturday worked
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not is_working_day(date(FALLBACK_YEAR, 1, 4))
        assert is_working_day(date(FALLBACK_YEAR, 1, 9))
        assert add_working_days(date(FALLBACK_YEAR, 1, 2), 1) == date(FALLBACK_YEAR, 1, 5)
    assert calendar_source(FALLBACK_YEAR).endswith("(test notice)")


def test_data_file_overrides_chinesecalendar(data_dir: Path) -> None:
    write_year(data_dir, 2024, holidays=["2024-06-03"])
    assert not is_working_day(date(2024, 6, 3))
    assert not is_working_day(date(2024, 9, 29))  # the file does not list it as worked
    assert str(data_dir) in calendar_source(2024)


def test_env_directory_wins_over_packaged(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = tmp_path_factory.mktemp("packaged")
    write_year(packaged, FALLBACK_YEAR, source="packaged")
    write_year(packaged, 2101, source="packaged")
    write_year(data_dir, FALLBACK_YEAR, source="operator")
    monkeypatch.setattr(calendar, "PACKAGED_CALENDAR_DIR", packaged)
    reload_calendar_data()
    assert calendar_source(FALLBACK_YEAR).endswith("(operator)")
    assert calendar_source(2101).endswith("(packaged)")


def test_packaged_directory_ships_no_year_file() -> None:
    names = sorted(p.name for p in calendar.PACKAGED_CALENDAR_DIR.iterdir())
    assert names == ["README.md"]


def test_missing_env_directory_and_other_files_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CALENDAR_DIR_ENV, str(tmp_path / "absent"))
    reload_calendar_data()
    assert is_working_day(date(2024, 9, 29))
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv(CALENDAR_DIR_ENV, str(tmp_path))
    reload_calendar_data()
    assert calendar_source(2024).startswith("chinesecalendar")


def test_reload_picks_up_a_new_file(data_dir: Path) -> None:
    with pytest.warns(CalendarFallbackWarning):
        assert is_working_day(date(FALLBACK_YEAR, 1, 4))
    write_year(data_dir, FALLBACK_YEAR, holidays=["2100-01-04"])
    assert is_working_day(date(FALLBACK_YEAR, 1, 4))  # still cached
    reload_calendar_data()
    assert not is_working_day(date(FALLBACK_YEAR, 1, 4))


def test_valid_file_loads(tmp_path: Path) -> None:
    path = write_year(tmp_path, 2027, holidays=["2027-01-01"], workdays=["2027-02-07"])
    schedule = load_year_file(path)
    assert schedule.year == 2027
    assert schedule.source == "test notice"
    assert schedule.holidays == frozenset({date(2027, 1, 1)})
    assert schedule.workdays == frozenset({date(2027, 2, 7)})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"year": 2028}, "'year' must be the integer in the file name"),
        ({"year": "2027"}, "'year' must be the integer in the file name"),
        ({"year": True}, "'year' must be the integer in the file name"),
        ({"source": ""}, "'source' must name the published notice"),
        ({"source": 7}, "'source' must name the published notice"),
        ({"holidays": "2027-01-01"}, "'holidays' must be a list"),
        ({"holidays": [20270101]}, "holidays[0]: 20270101 is not a YYYY-MM-DD string"),
        ({"holidays": ["20270101"]}, "holidays[0]: '20270101' is not a YYYY-MM-DD string"),
        ({"workdays": ["2027-02-30"]}, "workdays[0]: '2027-02-30' is not a real date"),
        ({"holidays": ["2027-01-01", "2026-12-31"]}, "holidays[1]: 2026-12-31 is outside"),
        ({"holidays": ["2027-01-01", "2027-01-01"]}, "holidays[1]: 2027-01-01 is listed twice"),
        (
            {"holidays": ["2027-02-07"], "workdays": ["2027-02-07"]},
            "2027-02-07 is both a holiday and a workday",
        ),
        ({"workdays": ["2027-02-08"]}, "2027-02-08 is a weekday"),
        ({"extra": 1}, "keys must be exactly"),
    ],
)
def test_invalid_files_are_rejected_precisely(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    path = write_year(tmp_path, 2027, **fields)
    with pytest.raises(CalendarDataError) as caught:
        load_year_file(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_keys_and_non_object(tmp_path: Path) -> None:
    path = tmp_path / "2027.json"
    path.write_text('{"year": 2027}', encoding="utf-8")
    with pytest.raises(CalendarDataError, match="keys must be exactly"):
        load_year_file(path)
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="top level must be an object"):
        load_year_file(path)


def test_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "2027.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="cannot read JSON"):
        load_year_file(path)
    with pytest.raises(CalendarDataError, match="cannot read JSON"):
        load_year_file(tmp_path / "2028.json")


def test_file_name_must_be_the_year(tmp_path: Path) -> None:
    path = tmp_path / "calendar.json"
    path.write_text(
        json.dumps({"year": 2027, "source": "x", "holidays": [], "workdays": []}),
        encoding="utf-8",
    )
    with pytest.raises(CalendarDataError, match="'year' must be the integer in the file name"):
        load_year_file(path)


def test_bad_file_fails_when_its_year_is_used_not_before(data_dir: Path) -> None:
    write_year(data_dir, FALLBACK_YEAR, holidays=["2099-01-01"])
    assert is_working_day(date(2024, 9, 29))
    with pytest.raises(CalendarDataError, match="outside the file's year"):
        is_working_day(date(FALLBACK_YEAR, 1, 4))
