"""How the in-process restriction index holds its subjects (services/responder/live_index.py):
loaded row by row in any order it equals the copy the ingest's path builds, a subject
with few rows costs little, and the load does not hold a row object per row beside the
spans (the check bench's responder at 1,000,000 one-row subjects: 770 MB, from
558-587 MB before spans; docs/benchmarks.md "Check API")."""

from __future__ import annotations

import asyncio
import math
import random
import tracemalloc
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from bench.index_memory import DEPARTMENT, _load
from services.responder.live_index import LiveIndex, Span
from services.responder.restriction_index import IndexRow
from tests.unit.test_restriction_index import SCENARIOS, _probes, scenario_rows


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("seed", range(3))
def test_rows_loaded_in_any_order_make_the_ingests_spans(name: str, seed: int) -> None:
    """The load makes the spans as the rows stream in, in whatever order the table
    gives them: the same spans, and the same answers at every instant, as the copy
    the ingest's path (`apply`) makes from all of the subject's rows at once."""
    state, departments, rows = scenario_rows(name)
    assert state.subject_id is not None
    applied = LiveIndex(departments)
    applied.add_identifier(state.subject_id, state.subject_id)
    applied.replace(state.subject_id, [applied.hold(r) for r in rows])
    loaded = LiveIndex(departments)
    loaded.add_identifier(state.subject_id, state.subject_id)
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    for r in shuffled:
        loaded.add_loaded(state.subject_id, loaded.hold(r))
    assert loaded.settle()
    assert loaded._held == applied._held
    every = {t.measure for r in state.designations.values() for t in r.data.tasks}
    for t in _probes(rows, state):
        for department in departments:
            args = (state.subject_id, department, every, t.timestamp())
            assert loaded.lookup(*args) == applied.lookup(*args), (name, department, t)


SINCE = datetime.now(UTC) - timedelta(days=1)


def _row(subject: str, measure: str, ordinal: int, designation: object = None) -> IndexRow:
    return IndexRow(
        department=DEPARTMENT,
        subject_id=subject,
        measure=measure,
        designation_id=designation or uuid4(),  # type: ignore[arg-type]
        list_type="court.dishonest-debtor",
        active_from=SINCE,
        active_until=None,
        ordinal=ordinal,
    )


def test_a_one_row_subject_is_its_span_with_shared_parts() -> None:
    """One span is held as itself (no tuple around it); its tuples of pairs and of
    ordinals, and "until further notice", are the objects every such subject holds;
    an identifier naming only its own subject maps to that subject's string."""
    live = LiveIndex(frozenset({DEPARTMENT}))
    for s in ("S1", "S2"):
        live.add_identifier(s, s)
        live.add_loaded(s, live.hold(_row(s, "m", 0)))
        live.replace(s + "x", [live.hold(_row(s + "x", "m", 0))])
    assert live.settle()
    spans = [live._held[s] for s in ("S1", "S2", "S1x", "S2x")]
    assert all(isinstance(span, Span) for span in spans)
    one, *others = spans
    assert isinstance(one, Span)
    for other in others:
        assert isinstance(other, Span)
        assert other.pairs is one.pairs
        assert other.ordinals is one.ordinals
        assert other.active_until is math.inf
    assert live._subjects["S1"] == "S1"
    found = live.lookup("S1", DEPARTMENT, {"m"}, datetime.now(UTC).timestamp())
    assert found.subject_ids == ["S1"]
    assert len(found.reasons) == 1


def test_a_court_subjects_rows_share_their_tuples_once_settled() -> None:
    """A court debtor's pairs and ordinals repeat from one subject to the next: once
    the load has settled (its rows came in any order) they are one tuple each."""
    live = LiveIndex(frozenset({DEPARTMENT}))
    for s in ("A", "B"):
        d = uuid4()
        rows = [_row(s, f"m{i}", i, d) for i in range(48)]
        random.Random(s).shuffle(rows)
        for r in rows:
            live.add_loaded(s, live.hold(r))
    assert live.settle()
    a, b = live._held["A"], live._held["B"]
    assert isinstance(a, Span)
    assert isinstance(b, Span)
    assert a.pairs is b.pairs
    assert a.ordinals is b.ordinals
    assert a.ordinals == tuple(range(48))


def _bytes_per_subject(subjects: int, kind: str) -> tuple[float, float]:
    """(kept, peak during the load) bytes per subject, by tracemalloc."""
    tracemalloc.start()
    try:
        index = asyncio.run(_load(subjects, 48 if kind == "court" else 1))
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(index) == subjects
    return kept / subjects, peak / subjects


def test_a_one_row_subject_costs_less_than_400_bytes() -> None:
    """Its id, its dict entries, its designation's UUID, its span: ~320 bytes (~650 as
    a span of its own tuples, the identifier mapping to a tuple, a float per infinity)."""
    kept, _ = _bytes_per_subject(5000, "one")
    assert kept < 400


def test_the_load_does_not_hold_a_row_object_per_row() -> None:
    """A court debtor's 48 rows were staged as 48 objects before their spans were
    made: the load's peak was ~5x what it kept (7.2 kB for 1.35 kB)."""
    kept, peak = _bytes_per_subject(3000, "court")
    assert kept < 500
    assert peak < 2 * kept + 1000
