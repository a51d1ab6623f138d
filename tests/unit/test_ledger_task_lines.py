"""A refresh that carries task lines over from the subject's previous refresh
(services/ledger/read_models/task_lines.py) gives what a render from scratch gives:
the same rows in every projection table and the same status document, byte for
byte — on random histories cut into random batches, on the court-list workloads
through ingest, and when only the clock moved a task's overdue flag. The status
messages, whose document is spliced in as serialised for the row
(services/ledger/status_stream.py), are the envelope's whole dump byte for byte."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import timedelta
from uuid import uuid5

import pydantic_core
import pytest
from aiokafka import ConsumerRecord
from hypothesis import given
from hypothesis import strategies as st

from services.ledger import tables
from services.ledger.fold_cache import FoldCache
from services.ledger.ingest import Ingest
from services.ledger.memory import MemoryLedger
from services.ledger.read_models.changed_rows import rows_of
from services.ledger.read_models.rows import SubjectProjection, project, project_state
from services.ledger.read_models.task_lines import Lines, TaskLines, dump_status
from services.ledger.replay import fold_recorded, recorded_events, to_recorded
from services.ledger.status_stream import _IDS, SOURCE, status_message
from services.ledger.store import StoredEvent
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import render_status, status_envelope
from tests.support.ledger_events import Script, feedback, stored
from tests.support.ledger_workload import court_bulk, records
from tests.support.subjects import new_resident_id
from tests.unit.test_fold_properties import SETTINGS, SUBJECT, History, histories, merge

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")


def _bytes(doc: object) -> bytes:
    return pydantic_core.to_json(doc)


def _assert_same(carried: SubjectProjection, scratch: SubjectProjection) -> None:
    """Rows equal table by table; the status document equal to the domain's whole dump,
    byte for byte (key order included)."""
    for table in tables.PROJECTIONS:
        assert rows_of(carried, table) == rows_of(scratch, table), table.name
    whole = scratch.status.model_dump(mode="json")
    assert _bytes(carried.status_row["status"]) == _bytes(whole)
    assert _bytes(scratch.status_row["status"]) == _bytes(whole)
    assert carried.status == scratch.status


def _refreshes(subject: str, events: Sequence[StoredEvent], cuts: Sequence[int]) -> int:
    """Project `events` batch by batch as ingest does (the state evolved, the previous
    refresh's lines carried), each against the projection of the prefix from scratch.
    Returns the lines carried over in all."""
    state = SubjectState()
    lines: Lines | None = None
    done = carried = 0
    for cut in [*sorted(set(cuts)), len(events)]:
        if cut <= done:
            continue
        state = fold_recorded(recorded_events(events[done:cut]), subject, state)
        prefix = events[:cut]
        effective = max(e.effective_at for e in prefix)
        projection = project_state(subject, state, prefix[-1], effective, lines)
        _assert_same(projection, project(subject, prefix))
        before = lines or {}
        carried += sum(1 for k, line in projection.lines.items() if before.get(k) is line)
        lines, done = projection.lines, cut
    return carried


def _stored(history: History, picks: list[bool]) -> list[StoredEvent]:
    events = merge(history.lifecycle, history.feedback, picks)
    return stored([r.envelope for r in events])


@SETTINGS
@given(
    histories(),
    st.lists(st.booleans(), max_size=60),
    st.lists(st.integers(1, 40), max_size=8),
)
def test_carried_lines_render_what_a_render_from_scratch_does(
    history: History, picks: list[bool], cuts: list[int]
) -> None:
    """Random lifecycles (objections, repairs, amendments, exits, revocations, ...) and
    answers in any interleaving the topics allow, cut into random batches."""
    events = _stored(history, picks)
    if events:
        _refreshes(SUBJECT, events, cuts)


def test_a_court_debtor_answered_task_by_task_carries_every_other_line() -> None:
    s = Script(new_resident_id())
    issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
    answers = feedback(issued)
    events = stored([issued, *answers])
    tasks = len(answers)
    carried = _refreshes(s.subject_id, events, list(range(1, len(events))))
    # each answer changes one line; the other lines of its refresh are carried
    assert carried == (tasks - 1) * tasks


def test_a_deadline_passing_moves_the_overdue_flag_of_a_carried_line() -> None:
    """The same state rendered later, past the tasks' deadlines: the flag is an input
    of the line, so the lines of unanswered tasks are rendered again."""
    s = Script(new_resident_id())
    issued = s.issue(list_type="court.dishonest-debtor", level="especially_serious")
    events = stored([issued, *feedback(issued, only=3)])
    state = fold_recorded(recorded_events(events), s.subject_id)
    early = TaskLines()
    first = render_status(state, issued.time + timedelta(days=1), task_renderer=early)
    late_at = issued.time + timedelta(days=60)
    late = TaskLines(early.lines)
    status = render_status(state, late_at, task_renderer=late)
    tasks = [t for d in status.designations for t in d.tasks]
    assert sum(t.overdue for d in first.designations for t in d.tasks) == 0
    assert sum(t.overdue for t in tasks) == len(tasks) - 3  # every unanswered one
    assert late.carried == 3  # the answered ones: not overdue, then or now
    whole = render_status(state, late_at)
    assert status == whole
    assert _bytes(dump_status(status, late)) == _bytes(whole.model_dump(mode="json"))


async def _ingest(ledger: MemoryLedger, ingest: Ingest, parts: list[list[ConsumerRecord]]) -> None:
    for part in parts:
        async with ledger.begin() as tx:
            await ingest.apply(tx, part)


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_every_status_message_of_a_court_list_is_the_one_from_scratch(seed: int) -> None:
    """Through ingest (fold cache, lanes interleaved, random batch sizes): every status
    message published is, byte for byte, the message of the subject's projection from
    scratch at the message's cause."""
    rng = random.Random(seed)
    recs = records(court_bulk(6, chunk=2, seed=seed).envelopes)
    parts: list[list[ConsumerRecord]] = []
    while recs:
        size = rng.choice([1, 5, 20, 60])
        parts.append(recs[:size])
        recs = recs[size:]
    ledger = MemoryLedger()
    await _ingest(ledger, Ingest(cache=FoldCache()), parts)
    messages = [r.message for r in ledger.outbox.rows]
    assert len(messages) > len(parts)  # several subjects per batch, every batch
    for message in messages:
        stream = await ledger.events.stream(message.key)
        cause = message.headers["jsb-caused-by"]
        prefix = stream[: 1 + next(i for i, e in enumerate(stream) if str(e.event_id) == cause)]
        scratch = project(message.key, prefix)
        assert message.value == status_message(scratch).value
        assert message.value == _dumped_message(scratch)
        assert json.loads(message.value)["data"]["caused_by"] == cause


def _dumped_message(projection: SubjectProjection) -> bytes:
    """The status message as the envelope dumps it whole (the status document dumped
    by pydantic, not spliced in as serialised for its row)."""
    caused_by = to_recorded(projection.head).envelope
    envelope = status_envelope(
        projection.status,
        caused_by,
        source=SOURCE,
        time=projection.as_of,
        document=projection.status.model_dump(mode="json"),
    )
    return envelope.model_copy(update={"id": uuid5(_IDS, str(caused_by.id))}).to_json_bytes()
