"""The catalogue loader's consistency rules for measures, level schemes, lock-outs and
deadline units: each refuses the catalogue naming the entry and the rule, and the
nearest valid catalogue loads (on the small catalogue of test_catalogue_loader)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.domain.catalogue import catalogue_from_data
from shared.domain.catalogue.model import Span
from shared.domain.vocabulary import CaseFact, Level, SpanUnit
from tests.unit.test_catalogue_loader import (
    A_GRADE,
    COURT,
    FLIGHT,
    SAFETY,
    WARNING,
    Data,
    minimal,
    problems_of,
)

Change = Callable[[Data], None]


def _measure(index: int, **fields: Any) -> Change:
    return lambda data: data["measures"][index].update(fields)


def _list_type(index: int, **fields: Any) -> Change:
    return lambda data: data["list_types"][index].update(fields)


def _lockout(index: int, **fields: Any) -> Change:
    return lambda data: data["list_types"][2]["repair"]["lockouts"][index].update(fields)


def _rule(index: int, section: str, **fields: Any) -> Change:
    return lambda data: data["list_types"][index][section].update(fields)


THREE_YEARS = {"amount": 3, "unit": "years"}
PERSONS = {"roles": ["legal_representative"], "source": "法释〔2015〕17号 第三条"}

REFUSED: list[tuple[str, Change, list[str]]] = [
    (
        "an organisation measure that reaches persons",
        _measure(1, applies_to=["organization"], reaches=PERSONS),
        [f"{WARNING}.reaches: only a measure for persons reaches related persons"],
    ),
    (
        "a duration from a fact without the fact",
        _measure(0, counts_from_fact=True, duration=THREE_YEARS),
        [f"{FLIGHT}.counts_from_fact: needs requires_fact and a duration"],
    ),
    (
        "a duration from a fact without a duration",
        _measure(0, counts_from_fact=True, requires_fact="penalty_or_dismissal"),
        [f"{FLIGHT}.counts_from_fact: needs requires_fact and a duration"],
    ),
    (
        "a duration and its days disagree",
        # three years are 1,096 nominal days (365.25 a year), not 3 x 365
        _measure(0, duration=THREE_YEARS, duration_days=1095),
        [f"{FLIGHT}.duration: 3 years is not 1095 days"],
    ),
    (
        "a level scheme without levels",
        _list_type(0, level_scheme={"kind": "graded", "levels": []}),
        [
            f"{COURT}.level_scheme.levels: must name at least one level",
            f"{COURT}.bundles.minor: the level scheme does not accept minor",
            f"{COURT}.bundles.especially_serious: the level scheme does not accept "
            "especially_serious",
        ],
    ),
    (
        "a fixed scheme of two levels",
        _list_type(0, level_scheme={"kind": "fixed", "levels": ["minor", "especially_serious"]}),
        [f"{COURT}.level_scheme.levels: a fixed scheme has exactly one level"],
    ),
    (
        "an incentive list as a joint sanction",
        _list_type(
            1,
            level_scheme={"kind": "graded", "levels": ["minor"], "joint_sanction_from": "minor"},
        ),
        [
            f"{A_GRADE}.level_scheme.joint_sanction_from: an incentive list is never a "
            "joint sanction"
        ],
    ),
    (
        "a never lock-out citing no rule",
        _lockout(2, never_basis="  "),
        [
            f"{SAFETY}.repair.lockouts[2].never_basis: a lock-out of `never` must cite the "
            "rule that says so"
        ],
    ),
    (
        "a lock-out as long as the period",
        _lockout(1, days=1826),
        [
            f"{SAFETY}.repair.lockouts[1].days: 1826 days is not shorter than the period "
            "(1826 days): repair would never be possible"
        ],
    ),
    (
        "a lock-out at a level the list does not designate",
        _lockout(0, level="minor"),
        [f"{SAFETY}.repair.lockouts[0].level: the level scheme does not accept minor"],
    ),
    (
        "an objection review in months",
        _rule(0, "objection", review_unit="months"),
        [f"{COURT}.objection.review_unit: a deadline is in working or calendar days"],
    ),
    (
        "an objection review in 24-hour days",
        _rule(0, "objection", review_unit="days"),
        [f"{COURT}.objection.review_unit: a deadline is in working or calendar days"],
    ),
    (
        "a repair decision in years",
        _rule(2, "repair", decision_unit="years"),
        [f"{SAFETY}.repair.decision_unit: a deadline is in working or calendar days"],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_an_inconsistent_catalogue_is_refused_naming_the_rule(
    tmp_path: Path, change: Change, expected: list[str]
) -> None:
    data = minimal()
    change(data)
    assert list(problems_of(tmp_path, data)) == expected


def test_the_nearest_consistent_catalogues_load() -> None:
    data = minimal()
    _measure(1, applies_to=["person"], reaches=PERSONS)(data)
    _measure(
        0,
        counts_from_fact=True,
        requires_fact="penalty_or_dismissal",
        duration=THREE_YEARS,
        duration_days=1096,
    )(data)
    _list_type(0, level_scheme={"kind": "fixed", "levels": ["especially_serious"]})(data)
    data["list_types"][0]["bundles"].pop("minor")
    _lockout(1, days=1825)(data)  # one day shorter than the period
    _rule(0, "objection", review_unit="calendar_days")(data)  # the court's 15 days
    _rule(2, "repair", decision_unit="calendar_days")(data)
    catalogue = catalogue_from_data(data)
    flight, warning = catalogue.measures[0], catalogue.measures[1]
    assert (flight.duration, flight.duration_days) == (Span(amount=3, unit=SpanUnit.YEARS), 1096)
    assert flight.requires_fact is CaseFact.PENALTY_OR_DISMISSAL
    assert flight.counts_from_fact
    assert warning.applies_to == ("person",)
    assert warning.reaches is not None
    court, safety = catalogue.list_types[0], catalogue.list_types[2]
    assert court.level_scheme.levels == (Level.ESPECIALLY_SERIOUS,)
    assert court.objection.review_unit is SpanUnit.CALENDAR_DAYS
    assert safety.repair.lockouts[1].days == 1825
    assert safety.repair.decision_unit is SpanUnit.CALENDAR_DAYS


@pytest.mark.parametrize(
    ("section", "model"), [("measures", "Measure"), ("list_types", "ListType")]
)
def test_an_entry_that_is_not_a_mapping_is_refused_not_a_crash(
    tmp_path: Path, section: str, model: str
) -> None:
    data = minimal()
    data[section].append("travel.restrict_exit")  # a code where the entry belongs
    index = len(data[section]) - 1
    assert problems_of(tmp_path, data) == (
        f"{section}[{index}]: Input should be a valid dictionary or instance of {model}",
    )
