"""The windows the projection stores agree with the domain's status at every instant:
sampled densely (random instants, every change instant and just before it) for
histories that move by the clock alone (pending → in force → expired, exits that take
effect later, incentives suppressed while a sanction is in force, overdue tasks)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from services.ledger.read_models.rows import project
from services.ledger.replay import fold_recorded, recorded_events
from services.ledger.store import StoredEvent
from services.ledger.timeline import Window, change_instants, timeline
from shared.domain.events import ExitApproved, MeasureExecuted, make_envelope
from shared.domain.fold_state import DesignationState, SubjectState
from shared.domain.status_view import render_status
from tests.support.ledger_events import T0, Script, designation_id, feedback, stored
from tests.support.subjects import new_resident_id, new_uscc

EPS = timedelta(microseconds=1)


def _state(events: list[StoredEvent]) -> SubjectState:
    return fold_recorded(recorded_events(events), events[0].stream)


def _inside(windows: list[Window], t: datetime) -> bool:
    return any(start <= t and (until is None or t < until) for start, until in windows)


def _assert_agrees(state: SubjectState, since: datetime) -> None:
    windows = timeline(state, since)
    rng = random.Random(7)
    instants = {since}
    for t in change_instants(state, since):
        instants.update({t, t - EPS, t + EPS})
    instants.update(since + timedelta(days=rng.uniform(0, 3000)) for _ in range(150))
    for t in sorted(i for i in instants if i >= since):
        status = render_status(state, t)
        for d in status.designations:
            in_force = d.state is DesignationState.IN_FORCE
            assert _inside(windows.in_force.get(d.designation_id, []), t) == in_force, t
            public = in_force and d.published and not d.suppressed
            assert _inside(windows.public.get(d.designation_id, []), t) == public, (t, d.state)
            for task in d.tasks:
                key = (d.designation_id, task.measure, task.department)
                assert _inside(windows.overdue.get(key, []), t) == task.overdue, (t, key)


def test_pending_then_in_force_then_expired_with_overdue_tasks() -> None:
    s = Script(new_uscc())
    iss = s.issue(effective_from=T0 + timedelta(days=10))
    events = stored([iss, *feedback(iss, only=3)])
    p = project(s.subject_id, events)
    _assert_agrees(_state(events), p.as_of)
    assert p.designations[0]["state"] == "pending"
    assert p.designations[0]["in_force_from"] == iss.time + timedelta(days=10)
    overdue = [t for t in p.tasks if t["overdue_from"] is not None]
    assert overdue
    assert all(t["answered_at"] is None for t in overdue)
    assert all(t["overdue_until"] == p.designations[0]["in_force_until"] for t in overdue)


def test_exit_that_takes_effect_later() -> None:
    s = Script(new_uscc())
    iss = s.issue(list_type="safety.joint-sanction", level="serious")
    until = s.designation(iss).effective_until
    assert until is not None
    approved = make_envelope(
        ExitApproved(designation_id=designation_id(iss), exited_at=until - timedelta(days=40)),
        subject=s.subject_id,
        source="/jsb/initiator/mem",
        time=T0 + timedelta(days=30),
    )
    events = stored([iss, approved])
    p = project(s.subject_id, events)
    _assert_agrees(_state(events), p.as_of)
    assert p.designations[0]["in_force_until"] == until - timedelta(days=40)


def test_incentive_hidden_while_a_sanction_is_in_force_and_shown_again() -> None:
    s = Script(new_uscc())
    red = s.issue(list_type="tax.a-grade", level="minor")
    later = T0 + timedelta(days=20)
    black = s.issue(
        list_type="market.serious-illegal",
        level="especially_serious",
        at=later,
        effective_from=later + timedelta(days=30),
        effective_until=later + timedelta(days=90),
    )
    events = stored([red, black])
    p = project(s.subject_id, events)
    _assert_agrees(_state(events), p.as_of)
    red_windows = [
        (r["visible_from"], r["visible_until"])
        for r in p.public_entries
        if r["designation_id"] == designation_id(red)
    ]
    # shown, hidden while the sanction (and any measure outliving it) is in force, shown again
    assert len(red_windows) == 2, red_windows
    assert red_windows[0][1] == later + timedelta(days=30)


@pytest.mark.parametrize("subject", ["org", "person"])
def test_public_entries_mask_persons(subject: str) -> None:
    subject_id = new_uscc() if subject == "org" else new_resident_id()
    s = Script(subject_id)
    iss = s.issue(list_type="court.dishonest-debtor", level="especially_serious", name="张三")
    p = project(subject_id, stored([iss]))
    [row] = p.public_entries
    entry = row["entry"]
    assert entry["subject_name"] == "张三"
    if subject == "person":
        assert entry["subject_id"] != subject_id
        assert "*" in entry["subject_id"]
        assert subject_id not in str(entry)
    else:
        assert entry["subject_id"] == subject_id


def test_unpublished_list_types_have_no_public_entries() -> None:
    s = Script(new_uscc())
    iss = s.issue(list_type="generic.key-watch", level="general")
    p = project(s.subject_id, stored([iss]))
    assert p.designations[0]["published"] is False
    assert p.public_entries == []


def test_feedback_state_counts_first_answer() -> None:
    s = Script(new_uscc())
    iss = s.issue()
    first = feedback(iss, only=1, at=T0 + timedelta(hours=2))
    again = [
        make_envelope(
            MeasureExecuted(
                designation_id=designation_id(iss),
                measure=first[0].data["measure"],
                department=first[0].data["department"],
                note="again",
            ),
            subject=s.subject_id,
            source="/x",
            time=T0 + timedelta(hours=5),
        )
    ]
    p = project(s.subject_id, stored([iss, *first, *again]))
    answered = [t for t in p.tasks if t["answered_at"] is not None]
    assert [t["answered_at"] for t in answered] == [T0 + timedelta(hours=2)]
