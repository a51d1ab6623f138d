"""Property tests of the fold (issue 3, Done when): deterministic; the same status for
every order the transport allows; incremental equals from scratch; as of T ignores
everything after T; known_at ignores what was recorded later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain.commands import (
    AmendDesignation,
    ApplyExit,
    ApproveExit,
    DesignationChanges,
    ExpireDesignation,
    FileObjection,
    GrantRepair,
    OpenExitWindow,
    RefuseRepair,
    ResolveObjection,
    RevokeDesignation,
    SupersedeDesignation,
)
from shared.domain.decide import Rejected, decide
from shared.domain.events import (
    FEEDBACK_EVENTS,
    DesignationIssued,
    ObjectionOutcome,
    RaisedBy,
    SubjectIntercepted,
)
from shared.domain.fold import Recorded, evolve, fold, status
from shared.domain.fold_state import SubjectState
from shared.domain.status_view import render_status
from tests.unit.domain_fixtures import (
    A_GRADE,
    GENERAL,
    INDEX,
    KEY_WATCH,
    MARKET,
    MINOR,
    SAFETY,
    SERIOUS,
    T0,
    feedback,
    issue,
    recorded,
    uscc,
)

pytestmark = pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")

SUBJECT = uscc(42)
DEPARTMENTS = {MARKET: "samr", SAFETY: "mem", KEY_WATCH: "samr", A_GRADE: "tax"}
KINDS = {MARKET: SERIOUS, SAFETY: SERIOUS, KEY_WATCH: GENERAL, A_GRADE: MINOR}
OPERATIONS = (
    "object",
    "reject",
    "uphold",
    "partially_uphold",
    "repair_some",
    "repair_all",
    "refuse_repair",
    "revoke",
    "amend",
    "window",
    "apply_exit",
    "approve_exit",
    "expire",
    "supersede",
    "issue",
    # objections and exits take two steps: weigh their second step up
    "reject",
    "uphold",
    "partially_uphold",
    "approve_exit",
)


@dataclass
class History:
    lifecycle: list[Recorded]
    feedback: list[Recorded]
    end: datetime


def _command(op: str, state: SubjectState, target: UUID, when: datetime) -> Any:
    record = state.designation(target)
    assert record is not None
    department = record.data.designated_by
    base = {"department": department, "at": when}
    objection = record.open_objection or (record.objections[-1] if record.objections else None)
    oid = objection.objection_id if objection else target
    tasks = [t.measure for t in record.data.tasks]
    match op:
        case "object":
            return FileObjection(
                designation_id=target,
                objection_id=uuid5(NAMESPACE_URL, f"objection:{when.isoformat()}"),
                raised_by=RaisedBy.SUBJECT,
                grounds="g",
                **base,
            )
        case "reject" | "uphold" | "partially_uphold":
            outcome = {
                "reject": ObjectionOutcome.REJECTED,
                "uphold": ObjectionOutcome.UPHELD,
                "partially_uphold": ObjectionOutcome.PARTIALLY_UPHELD,
            }[op]
            amendment = DesignationChanges(reason=f"corrected {when.isoformat()}")
            return ResolveObjection(objection_id=oid, outcome=outcome, amendment=amendment, **base)
        case "repair_some":
            return GrantRepair(designation_id=target, measures=tuple(tasks[:1]), **base)
        case "repair_all":
            return GrantRepair(designation_id=target, **base)
        case "refuse_repair":
            return RefuseRepair(designation_id=target, **base)
        case "revoke":
            return RevokeDesignation(designation_id=target, reason="wrong", **base)
        case "amend":
            changes = DesignationChanges(subject_name=f"Name {when.day}", reason=f"r{when.day}")
            return AmendDesignation(designation_id=target, changes=changes, reason="fix", **base)
        case "window":
            return OpenExitWindow(designation_id=target, **base)
        case "apply_exit":
            return ApplyExit(designation_id=target, **base)
        case "approve_exit":
            return ApproveExit(designation_id=target, **base)
        case "expire":
            return ExpireDesignation(designation_id=target, **base)
        case _:  # supersede
            others = [d for d in state.designations if d != target]
            by = others[0] if others else target
            return SupersedeDesignation(designation_id=target, by_designation_id=by, **base)


@st.composite
def histories(draw: st.DrawFn) -> History:
    """A subject's history made by deciding random commands at increasing times (only
    accepted ones count), and feedback on its tasks at random times, in random order."""
    state = SubjectState(subject_id=SUBJECT)
    lifecycle: list[Recorded] = []
    when = T0
    list_types = draw(st.lists(st.sampled_from(list(KINDS)), min_size=1, max_size=3))
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(OPERATIONS),
                st.integers(0, 2),
                st.sampled_from((0.0, 0.5, 3.0, 30.0, 200.0)),
                st.integers(0, 3),
            ),
            max_size=14,
        )
    )

    def run(command: Any) -> None:
        nonlocal state
        decision = decide(state, command, INDEX)
        if isinstance(decision, Rejected):
            return
        for new in decision:
            if new.subject == SUBJECT:
                item = recorded(
                    new, recorded_at=new.time + timedelta(seconds=draw(st.integers(0, 90_000)))
                )
                lifecycle.append(item)
                state = evolve(state, item)

    counter = iter(range(1_000))

    def new_issue(code: str, at: datetime) -> Any:
        designation_id = uuid5(NAMESPACE_URL, f"designation:{next(counter)}")
        return issue(
            SUBJECT,
            list_type=code,
            level=KINDS[code],
            at=at,
            designation_id=designation_id,
            decision_no=str(designation_id),
        )

    for code in list_types:
        run(new_issue(code, when))
    for op, index, gap_days, list_index in steps:
        when = when + timedelta(days=gap_days)
        if op == "issue":
            code = list_types[list_index % len(list_types)]
            run(new_issue(code, when))
            continue
        designations = list(state.designations)
        target = designations[index % len(designations)]
        if op in ("reject", "uphold", "partially_uphold"):  # steer to an open objection
            target = next((d for d, r in state.designations.items() if r.open_objection), target)
        until = state.designations[target].data.effective_until
        if op in ("window", "apply_exit", "approve_exit", "expire") and until is not None:
            when = max(when, until - timedelta(days=0 if op == "expire" else 10))
        run(_command(op, state, target, when))
    tasks = [
        (d.designation_id, t.measure, t.department)
        for r in lifecycle
        if isinstance(d := _issued(r), DesignationIssued)
        for t in d.tasks
    ]
    fb: list[Recorded] = []
    if tasks:
        for task_index, kind, days in draw(
            st.lists(
                st.tuples(
                    st.integers(0, len(tasks) - 1),
                    st.sampled_from(FEEDBACK_EVENTS),
                    st.floats(0, 900, allow_nan=False),
                ),
                max_size=12,
            )
        ):
            designation_id, measure, department = tasks[task_index]
            extra = {"check_id": designation_id} if kind is SubjectIntercepted else {}
            moment = T0 + timedelta(days=days)
            fb.append(feedback(kind, SUBJECT, designation_id, measure, department, moment, **extra))
    end = max([r.envelope.time for r in lifecycle + fb], default=T0)
    return History(lifecycle, fb, end)


def _issued(item: Recorded) -> DesignationIssued | None:
    from shared.domain.events import decode

    event = decode(item.envelope)
    return event if isinstance(event, DesignationIssued) else None


def merge(first: list[Recorded], second: list[Recorded], picks: list[bool]) -> list[Recorded]:
    """Interleave two topics, each keeping its own order (what Kafka guarantees)."""
    a, b, out = list(first), list(second), []
    for take_first in picks:
        if a and (take_first or not b):
            out.append(a.pop(0))
        elif b:
            out.append(b.pop(0))
    return out + a + b


SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _instants(history: History) -> list[datetime]:
    return [T0, T0 + (history.end - T0) / 2, history.end, history.end + timedelta(days=2000)]


@SETTINGS
@given(histories(), st.lists(st.booleans(), max_size=60))
def test_every_interleaving_the_transport_allows_gives_the_same_status(
    history: History, picks: list[bool]
) -> None:
    mixed = merge(history.lifecycle, history.feedback, picks)
    lifecycle_first = history.lifecycle + history.feedback
    feedback_first = history.feedback + history.lifecycle
    for as_of in _instants(history):
        expected = status(lifecycle_first, as_of)
        assert status(mixed, as_of) == expected
        assert status(feedback_first, as_of) == expected


@SETTINGS
@given(histories())
def test_the_fold_is_deterministic(history: History) -> None:
    events = history.lifecycle + history.feedback
    copies = [Recorded(r.envelope.model_copy(), r.recorded_at) for r in events]
    for as_of in _instants(history):
        once = status(events, as_of)
        assert once == status(copies, as_of)
        assert once.model_dump_json() == status(events, as_of).model_dump_json()


@SETTINGS
@given(histories(), st.lists(st.booleans(), max_size=60))
def test_incremental_equals_from_scratch(history: History, picks: list[bool]) -> None:
    events = merge(history.lifecycle, history.feedback, picks)
    incremental = SubjectState()
    for item in events:
        incremental = evolve(incremental, item)
    assert incremental == fold(events) == reduce(evolve, events, SubjectState())
    for as_of in _instants(history)[2:]:  # the live projection answers for now and later
        assert render_status(incremental, as_of) == status(events, as_of)


@SETTINGS
@given(histories(), st.floats(0, 1, allow_nan=False), st.lists(st.booleans(), max_size=60))
def test_a_status_as_of_t_ignores_everything_after_t(
    history: History, fraction: float, picks: list[bool]
) -> None:
    events = merge(history.lifecycle, history.feedback, picks)
    cut = T0 + (history.end - T0) * fraction
    before = [r for r in events if r.envelope.time <= cut]
    assert status(events, cut) == status(before, cut)
    later = [r for r in events if r.envelope.time > cut]
    assert status(before + later, cut) == status(before, cut)


@SETTINGS
@given(histories(), st.floats(0, 1, allow_nan=False))
def test_known_at_ignores_what_was_recorded_later(history: History, fraction: float) -> None:
    events = history.lifecycle + history.feedback
    known_at = T0 + (history.end + timedelta(days=2) - T0) * fraction
    as_of = history.end + timedelta(days=1)
    known = [r for r in events if r.recorded_at <= known_at]
    assert status(events, as_of, known_at).model_copy(update={"known_at": None}) == status(
        known, as_of
    )
