"""The in-process copy of the restriction index answers as the fold does, at every
instant of every lifecycle scenario of the index's own test; and what a committed
ingest batch wrote replaces a subject's rows in it."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.responder.live_index import SETTLE_CHUNK, IndexChanges, LiveIndex, load
from services.responder.restriction_index import IndexRow
from tests.unit.domain_fixtures import resident_id
from tests.unit.test_restriction_index import SCENARIOS, _fold_answer, _probes, scenario_rows


def _live(departments: frozenset[str], subject: str, rows: list[IndexRow]) -> LiveIndex:
    live = LiveIndex(departments)
    live.apply(IndexChanges(rows={subject: rows}, identifiers=[(subject, subject)]))
    return live


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_copy_answers_as_the_fold_at_every_instant(name: str) -> None:
    state, departments, rows = scenario_rows(name)
    assert state.subject_id is not None
    live = _live(departments, state.subject_id, rows)
    every = {t.measure for r in state.designations.values() for t in r.data.tasks}
    for t in _probes(rows, state):
        for department in departments:
            found = live.lookup(state.subject_id, department, every, t.timestamp())
            assert found.subject_ids == [state.subject_id]
            assert {(d, m) for _, d, _, m in found.reasons} == _fold_answer(state, department, t), (
                name,
                department,
                t,
            )


def _row(subject: str, measure: str, ordinal: int, **times: datetime | None) -> IndexRow:
    now = datetime.now(UTC)
    return IndexRow(
        department="caac",
        subject_id=subject,
        measure=measure,
        designation_id=uuid4(),
        list_type="court.dishonest-debtor",
        active_from=times.get("active_from") or now - timedelta(days=1),
        active_until=times.get("active_until"),
        ordinal=ordinal,
    )


def test_changes_replace_a_subjects_rows_and_identifiers_accumulate() -> None:
    live = LiveIndex(frozenset({"caac"}))
    now = datetime.now(UTC).timestamp()
    first, second = _row("S1", "m.a", 1000), _row("S1", "m.b", 1)
    live.apply(
        IndexChanges(
            rows={"S1": [first, second, replace(first, department="rail")]},
            identifiers=[("S1", "S1"), ("OLD1", "S1")],
        )
    )
    found = live.lookup("OLD1", "caac", {"m.a", "m.b"}, now)
    # the fold's order (ordinal), another department's row not held
    assert [m for *_, m in found.reasons] == ["m.b", "m.a"]
    assert (found.subject_ids, len(live)) == (["S1"], 1)
    assert live.lookup("S1", "rail", {"m.a"}, now).reasons == []
    # a second subject under the same identifier: both, sorted
    live.apply(IndexChanges(rows={"S0": [_row("S0", "m.a", 0)]}, identifiers=[("OLD1", "S0")]))
    assert live.lookup("OLD1", "caac", {"m.a"}, now).subject_ids == ["S0", "S1"]
    # a later batch replaces the subject's rows whole (revoked: none left)
    live.apply(IndexChanges(rows={"S1": []}))
    assert live.lookup("S1", "caac", {"m.a", "m.b"}, now).reasons == []
    assert len(live) == 1
    assert live.position == 0  # only read from the table (load, follow)
    # an unknown identifier: nobody, nothing
    assert live.lookup("nobody", "caac", {"m.a"}, now).subject_ids == []


def test_an_interval_holds_from_its_start_until_just_before_its_end() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=30)
    live = _live(frozenset({"caac"}), "S", [_row("S", "m", 0, active_from=start, active_until=end)])

    def blocks(t: datetime) -> bool:
        return bool(live.lookup("S", "caac", {"m"}, t.timestamp()).reasons)

    tick = timedelta(microseconds=1)
    assert [blocks(start - tick), blocks(start), blocks(end - tick), blocks(end)] == [
        False,
        True,
        True,
        False,
    ]


def test_a_designations_rows_are_held_as_one_span_and_answer_as_rows() -> None:
    """The rows of one designation share their interval: held as one span of
    (department, measure) pairs (the index's memory per subject is what grows with the
    subjects restricted), answering what the rows answered, in the fold's order."""
    subject = resident_id()
    start = datetime(2026, 1, 5, tzinfo=UTC)
    end = datetime(2031, 1, 5, tzinfo=UTC)
    designation, later = uuid4(), uuid4()
    rows = [
        replace(_row(subject, f"m{i}", i, active_from=start), designation_id=designation)
        for i in range(48)
    ]
    # a second designation of the same measures, one interval ending: two more spans
    rows += [
        replace(
            _row(subject, f"m{i}", 48 + i, active_from=start, active_until=end if i else None),
            designation_id=later,
        )
        for i in range(2)
    ]
    every = {f"m{i}" for i in range(48)}
    live = _live(frozenset({"caac"}), subject, rows)
    assert len(live._held[subject]) == 3
    found = live.lookup(subject, "caac", every, start.timestamp())
    assert [(d, m) for _, d, _, m in found.reasons] == [
        *((designation, f"m{i}") for i in range(48)),
        (later, "m0"),
        (later, "m1"),
    ]
    assert live.lookup(subject, "caac", {"m1"}, end.timestamp()).reasons == [
        (subject, designation, "court.dishonest-debtor", "m1")
    ]
    assert live.lookup(subject, "tax", every, start.timestamp()).reasons == []

    loaded = LiveIndex(frozenset({"caac"}))  # start-up: one row at a time, any order
    loaded.add_identifier(subject, subject)
    for r in reversed(rows):
        loaded.add_loaded(subject, loaded.hold(r))
    loaded.settle()
    assert loaded._held[subject] == live._held[subject]
    assert loaded.lookup(subject, "caac", every, start.timestamp()) == found


class _Rows:
    """Just enough of an asyncpg connection for `load`: its rows, then a flag once the
    last row has been read."""

    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.rows = rows
        self.all_read = False

    def transaction(self, readonly: bool = False) -> _Rows:
        return self

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_: object) -> None:
        return None

    async def execute(self, sql: str) -> None:
        return None

    async def fetchval(self, sql: str) -> int:
        return 0

    async def cursor(self, sql: str, *args: object, prefetch: int) -> AsyncIterator[object]:
        if "subject_identifiers" in sql:
            return
        for row in self.rows:
            yield row
        self.all_read = True


async def test_the_load_lets_the_event_loop_turn_while_it_makes_the_spans() -> None:
    """Made in one go, the spans of 1,000,000 subjects held the event loop for seconds:
    no check, /readyz or /metrics was answered meanwhile. Here the loop must turn
    between the last row read and the copy being ready."""
    subjects = 3 * SETTLE_CHUNK + 5
    conn = _Rows(
        [
            (f"s{i}", "caac", "m", uuid4(), "court.dishonest-debtor", 0.0, math.inf, 0)
            for i in range(subjects)
        ]
    )
    turns_while_settling = 0
    done = asyncio.Event()

    async def count_turns() -> None:
        nonlocal turns_while_settling
        while not done.is_set():
            if conn.all_read:
                turns_while_settling += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    index = await load(conn, frozenset({"caac"}), "SELECT 1")  # type: ignore[arg-type]
    done.set()
    await counter
    assert index.loaded
    assert len(index._held) == subjects
    assert turns_while_settling >= 3
