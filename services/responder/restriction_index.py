"""The restriction index: what each hosted department must block, per subject, as time
intervals — computed by the ingest when a subject's events change, read by checks.

Why intervals: a check asks "does this department enforce a sanction measure on this
subject *now*?". The fold answers that from the whole history (`enforced_by`), and the
answer changes either with a new event (the ingest sees it) or by the clock alone
(effective from / until, an ending that lies ahead, a measure's own duration). Between
two such instants the answer is constant — every clock comparison in
`DesignationRecord.state_at` / `measures_in_force` is `as_of >= instant` — so the ingest
folds the subject once, evaluates the measures in force at the start of each interval,
and stores one row per (department, measure, designation) and interval. A check is then
one indexed lookup at any later instant, with the same answer as folding at that
instant (tested against the fold: tests/unit/test_restriction_index.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from shared.domain.fold_state import DesignationRecord, SubjectState
from shared.domain.vocabulary import Polarity

FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
"""The start of the first interval (earlier than any designation's effect)."""


@dataclass(frozen=True, slots=True)
class IndexRow:
    department: str
    subject_id: str
    measure: str
    designation_id: UUID
    list_type: str
    active_from: datetime
    active_until: datetime | None
    """None: until an event changes it."""
    ordinal: int
    """The fold's order (designations as issued, tasks as listed): the order of reasons."""


@dataclass(frozen=True, slots=True)
class Found:
    """What a check found: the subjects known by the identifier, and the sanctions in
    force behind a block as (subject, designation, list type, measure), in fold order."""

    subject_ids: list[str]
    reasons: list[tuple[str, UUID, str, str]]


def _instants(record: DesignationRecord) -> list[datetime]:
    """Where the clock alone may change what the designation enforces."""
    found = {FAR_PAST, record.data.effective_from}
    if record.data.effective_until is not None:
        found.add(record.data.effective_until)
    if record.end is not None:
        found.add(record.end.at)
    found.update(t.until for t in record.data.tasks if t.until is not None)
    return sorted(i for i in found if i >= FAR_PAST)


def record_rows(
    record: DesignationRecord, subject_id: str, departments: frozenset[str], first: int
) -> list[IndexRow]:
    """The intervals in which the record's sanction measures are in force for
    `departments` (consecutive intervals of one measure merged)."""
    if record.data.polarity is not Polarity.SANCTION:
        return []
    order = {(t.department, t.measure): n for n, t in enumerate(record.data.tasks)}
    starts = _instants(record)
    open_since: dict[tuple[str, str], datetime] = {}
    rows: list[IndexRow] = []

    def close(key: tuple[str, str], until: datetime | None) -> None:
        rows.append(
            IndexRow(
                department=key[0],
                subject_id=subject_id,
                measure=key[1],
                designation_id=record.designation_id,
                list_type=record.data.list_type,
                active_from=open_since.pop(key),
                active_until=until,
                ordinal=first + order.get(key, 0),
            )
        )

    for start in starts:
        in_force = {
            (t.department, t.measure)
            for t in record.measures_in_force(start)
            if t.department in departments
        }
        for key in [k for k in open_since if k not in in_force]:
            close(key, start)
        for key in in_force:
            open_since.setdefault(key, start)
    for key in list(open_since):
        close(key, None)
    return rows


def subject_rows(state: SubjectState, departments: frozenset[str]) -> list[IndexRow]:
    """Every interval of every sanction measure `departments` enforce on the subject."""
    if state.subject_id is None:
        return []
    rows: list[IndexRow] = []
    for n, record in enumerate(state.designations.values()):
        rows.extend(record_rows(record, state.subject_id, departments, n * 1000))
    return rows


def in_force(rows: Iterable[IndexRow], department: str, measures: set[str], at: datetime) -> bool:
    """Whether any row blocks `measures` for `department` at `at` (what a check asks)."""
    return any(
        r.department == department
        and r.measure in measures
        and r.active_from <= at
        and (r.active_until is None or at < r.active_until)
        for r in rows
    )
