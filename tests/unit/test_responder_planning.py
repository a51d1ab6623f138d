"""The responder's pure planning (services/responder/planning.py): what one event, or
the clock, does to a department's tasks of one designation — without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.responder.hosting import Hosting
from services.responder.planning import CLOCK, plan
from services.responder.ports import Known
from services.responder.settings import ResponderSettings
from services.responder.taskbook import task_id
from shared.domain.catalogue.index import default_index
from shared.domain.commands import IssueDesignation, RevokeDesignation, SubjectRef
from shared.domain.envelope import Envelope
from shared.domain.fold_state import DesignationRecord
from tests.unit.domain_fixtures import Subject, uscc

CATALOGUE = default_index()
TAX = "tax.major-violation"
PROCUREMENT = "procurement.restrict_government_procurement"
NOW = datetime.now(UTC)


def _issued(**fields: Any) -> tuple[Subject, DesignationRecord, Envelope]:
    subject = Subject(uscc())
    news = subject.run(
        IssueDesignation(
            department="tax",
            at=fields.pop("at", NOW),
            subject=SubjectRef(id=subject.subject_id, name="某某"),
            list_type=TAX,
            level="especially_serious",
            reason="r",
            decision_no="d",
            decided_at=date.today(),
            **fields,
        ),
        CATALOGUE,
    )
    did = news[0].data.designation_id
    record = subject.state.designation(did)
    assert record is not None
    return subject, record, subject.events[-1].envelope


def _hosting(**settings: Any) -> Hosting:
    return Hosting.of(ResponderSettings(**settings), CATALOGUE)


def test_a_new_auto_task_is_executed_and_reported_once() -> None:
    _, record, cause = _issued()
    todo = plan(record, "mof", {}, _hosting(), as_of=NOW, cause=cause, now=NOW)
    assert todo.updates == []
    measures = [row["measure"] for row in todo.inserts]
    assert PROCUREMENT in measures
    assert measures == sorted(measures)
    row = next(r for r in todo.inserts if r["measure"] == PROCUREMENT)
    assert row["task_id"] == task_id(record.designation_id, PROCUREMENT, "mof")
    assert (row["state"], row["mode"], row["last_event_type"]) == ("executed", "auto", cause.type)
    assert row["last_event_id"] == cause.id
    assert [r.outcome for r in todo.reports] == ["executed"] * len(measures)
    assert [r.measure for r in todo.reports] == measures
    assert todo.known[PROCUREMENT].state == "executed"


def test_a_manual_task_waits_in_the_inbox_and_reports_nothing() -> None:
    _, record, cause = _issued()
    hosting = _hosting(execution_modes={PROCUREMENT: "manual"})
    todo = plan(record, "mof", {}, hosting, as_of=NOW, cause=cause, now=NOW)
    row = next(r for r in todo.inserts if r["measure"] == PROCUREMENT)
    assert (row["state"], row["mode"]) == ("pending", "manual")
    assert PROCUREMENT not in {r.measure for r in todo.reports}


def test_a_designation_taking_effect_later_is_applied_now_and_wakes_at_its_start() -> None:
    later = NOW + timedelta(days=3)
    _, record, cause = _issued(effective_from=later)
    todo = plan(record, "mof", {}, _hosting(), as_of=NOW, cause=cause, now=NOW)
    row = next(r for r in todo.inserts if r["measure"] == PROCUREMENT)
    assert row["state"] == "executed"
    assert row["wake_at"] == later


def test_a_revocation_lifts_executed_tasks_and_the_clock_is_named_as_the_cause() -> None:
    subject, record, cause = _issued()
    first = plan(record, "mof", {}, _hosting(), as_of=NOW, cause=cause, now=NOW)
    subject.run(
        RevokeDesignation(
            designation_id=record.designation_id,
            reason="wrong",
            restore_reputation=True,
            department="tax",
            at=NOW + timedelta(hours=1),
        ),
        CATALOGUE,
    )
    revoked = subject.state.designation(record.designation_id)
    assert revoked is not None
    later = NOW + timedelta(hours=2)
    todo = plan(revoked, "mof", first.known, _hosting(), as_of=later, cause=None, now=later)
    assert todo.inserts == []
    assert {values["state"] for _, values in todo.updates} == {"lifted"}
    assert {values["last_event_type"] for _, values in todo.updates} == {CLOCK}
    assert all("last_event_id" not in values for _, values in todo.updates)
    assert {r.outcome for r in todo.reports} == {"lifted"}
    # Applied again, nothing changes and nothing more is reported.
    again = plan(revoked, "mof", todo.known, _hosting(), as_of=later, cause=None, now=later)
    assert again.reports == []


def test_a_department_without_tasks_plans_nothing() -> None:
    _, record, cause = _issued()
    todo = plan(record, "nobody", {}, _hosting(), as_of=NOW, cause=cause, now=NOW)
    assert (todo.inserts, todo.updates, todo.reports) == ([], [], [])
    assert todo.feedback() == []


def test_existing_tasks_keep_their_mode() -> None:
    _, record, cause = _issued()
    tid = task_id(record.designation_id, PROCUREMENT, "mof")
    existing = {PROCUREMENT: Known(tid, "manual", "pending", None)}
    todo = plan(record, "mof", existing, _hosting(), as_of=NOW, cause=cause, now=NOW)
    assert (tid, "pending") in {(t, v["state"]) for t, v in todo.updates}
    assert todo.known[PROCUREMENT].mode == "manual"


def test_a_plans_transitions_travel_in_one_event_with_an_item_each() -> None:
    _, record, cause = _issued()
    todo = plan(record, "mof", {}, _hosting(), as_of=NOW, cause=cause, now=NOW)
    assert len(todo.reports) > 1
    (emitted,) = todo.feedback(".t")
    assert emitted.kinds == tuple(r.outcome for r in todo.reports)
    env = Envelope.from_json_bytes(emitted.message.value)
    assert (emitted.message.topic, emitted.message.key) == (
        "jsb.feedback.v1.t",
        record.data.subject_id,
    )
    assert (env.type, env.causationid) == ("jsb.feedback.measures_reported", str(cause.id))
    assert env.data["department"] == "mof"
    assert env.data["designation_id"] == str(record.designation_id)
    items = [(i["measure"], i["outcome"]) for i in env.data["items"]]
    assert items == [(r.measure, r.outcome) for r in todo.reports]
    assert len({m for m, _ in items}) == len(items)  # one item per measure


def test_a_lone_transition_stays_a_single_event() -> None:
    _, record, cause = _issued()
    hosting = _hosting(default_mode="manual", execution_modes={PROCUREMENT: "auto"})
    todo = plan(record, "mof", {}, hosting, as_of=NOW, cause=cause, now=NOW)
    (emitted,) = todo.feedback()
    env = Envelope.from_json_bytes(emitted.message.value)
    assert (emitted.kinds, env.type, env.data["measure"]) == (
        ("executed",),
        "jsb.feedback.executed",
        PROCUREMENT,
    )
