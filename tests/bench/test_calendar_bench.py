"""Working-day arithmetic (法定工作日 deadlines) against the walk it replaces.

Baseline, in the same run: walking the calendar day by day and asking
`is_working_day` of each day — the obvious implementation, whose cost grows with the
span. The tables by year answer in a cost that should not grow with it. Two spans 10×
apart (36 and 365 working days; 1 and 10 years of counting)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.domain.calendar import add_working_days, is_working_day, working_days_between
from tests.bench.report import best_of, record

pytestmark = pytest.mark.bench

START = date(2024, 1, 1)
ROUNDS = 200


def _walk_add(start: date, n: int) -> date:
    day, left = start, n
    while left:
        day += timedelta(days=1)
        left -= is_working_day(day)
    return day


def _walk_count(first: date, last: date) -> int:
    return sum(is_working_day(first + timedelta(days=i)) for i in range(1, (last - first).days + 1))


def test_working_day_arithmetic_against_a_walk() -> None:
    results: dict[str, dict[str, float]] = {}
    for n, years in ((36, 1), (365, 10)):
        last = date(START.year + years, 1, 1)
        assert add_working_days(START, n) == _walk_add(START, n)
        assert working_days_between(START, last) == _walk_count(START, last)

        def tables(n: int = n, last: date = last) -> None:
            for _ in range(ROUNDS):
                add_working_days(START, n)
                working_days_between(START, last)

        def walk(n: int = n, last: date = last) -> None:
            for _ in range(ROUNDS):
                _walk_add(START, n)
                _walk_count(START, last)

        fast, slow = best_of(tables), best_of(walk)
        results[f"{n}_working_days_{years}_years"] = {
            "tables_us_per_round": fast / ROUNDS * 1e6,
            "walk_us_per_round": slow / ROUNDS * 1e6,
            "speedup_over_walk": slow / fast,
        }
    record("calendar", results)
