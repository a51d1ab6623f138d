"""The responder's service layer end to end — ingest → plan → execute → feedback, and
the inbox — on the in-memory adapters (tests/support/responder_memory.py): no
Postgres, no Kafka, in seconds. The same flows on Postgres:
tests/integration/test_responder_lanes.py and test_responder_store.py."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.responder import inbox
from services.responder.schemas import FeedbackCreate
from shared.domain.commands import RevokeDesignation
from shared.domain.envelope import Envelope
from shared.domain.errors import Conflict, NotFound
from tests.support.feedback_items import BATCH, reports
from tests.support.responder_harness import (
    hosting,
    issue_command,
    objection,
    rejection,
    run,
)
from tests.support.responder_memory import MemoryResponder
from tests.support.subjects import new_resident_id, new_uscc
from tests.unit.domain_fixtures import Subject

TAX = "tax.major-violation"
COURT = "court.dishonest-debtor"
PROCUREMENT = "procurement.restrict_government_procurement"


async def responder(**settings: Any) -> MemoryResponder:
    r = MemoryResponder(hosting(**settings))
    await r.ensure()
    return r


def tasks_of(envelope: Envelope) -> dict[str, list[str]]:
    """The designation's measures by department, sorted."""
    out: dict[str, list[str]] = {}
    for t in envelope.data["tasks"]:
        out.setdefault(t["department"], []).append(t["measure"])
    return {d: sorted(ms) for d, ms in out.items()}


def counted(events: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """(measure, department, kind) of every report, single events and items alike."""
    return Counter(
        (data["measure"], data["department"], kind)
        for e in events
        for kind, data in reports(e["type"], e["data"])
    )


def revocation(designation_id: Any) -> RevokeDesignation:
    return RevokeDesignation(
        department="tax", at=datetime.now(UTC), designation_id=designation_id, reason="wrong"
    )


def tax_designation() -> tuple[Subject, list[Envelope]]:
    subject = Subject(new_uscc())
    return subject, run(subject, issue_command(subject.subject_id, TAX, "tax"))


async def test_a_court_designation_is_reported_in_one_event_per_department() -> None:
    r = await responder()
    person = Subject(new_resident_id())
    (issued,) = run(person, issue_command(person.subject_id, COURT, "court"))
    expected = tasks_of(issued)
    assert max(len(ms) for ms in expected.values()) > 1  # some department has several

    await r.feed([issued])
    await r.drain()

    events = r.feedback()
    by_department = {e["data"]["department"]: e for e in events}
    assert len(events) == len(by_department) == len(expected)  # one event per department
    for department, measures in expected.items():
        event = by_department[department]
        assert event["causationid"] == str(issued.id)
        assert event["subject"] == person.subject_id
        assert event["data"]["designation_id"] == issued.data["designation_id"]
        if len(measures) == 1:
            assert event["type"] == "jsb.feedback.executed"
            assert event["data"]["measure"] == measures[0]
        else:
            assert event["type"] == BATCH
            items = event["data"]["items"]
            assert [i["measure"] for i in items] == measures  # one item per measure
            assert {i["outcome"] for i in items} == {"executed"}
    assert {t.state for t in r.store.tasks()} == {"executed"}
    assert len(r.store.tasks()) == sum(len(ms) for ms in expected.values())


async def test_a_manual_task_waits_in_the_inbox_until_an_officer_answers() -> None:
    r = await responder(execution_modes={PROCUREMENT: "manual"})
    _, envelopes = tax_designation()
    await r.feed(envelopes)
    await r.drain()
    reported = counted(r.feedback())
    assert (PROCUREMENT, "mof", "executed") not in reported
    (waiting,) = [t for t in r.store.tasks("mof") if t.measure == PROCUREMENT]
    assert (waiting.state, waiting.mode) == ("pending", "manual")

    async with r.store.begin() as unit:
        listed = await inbox.list_tasks(unit, "mof", "pending", None, 10)
    assert [t.task_id for t in listed] == [waiting.task_id]

    async with r.store.begin() as unit:
        answered = await inbox.answer(
            unit, "mof", waiting.task_id, FeedbackCreate(outcome="executed", note="done"), r.suffix
        )
    assert (answered.state, answered.note) == ("executed", "done")
    assert answered.answered_at is not None
    last = r.feedback()[-1]
    assert (last["type"], last["data"]["measure"], last["data"]["note"]) == (
        "jsb.feedback.executed",
        PROCUREMENT,
        "done",
    )
    before = len(r.store.messages)
    with pytest.raises(Conflict):  # answered already
        async with r.store.begin() as unit:
            await inbox.answer(unit, "mof", waiting.task_id, FeedbackCreate(outcome="failed"), "")
    with pytest.raises(NotFound):  # another department's task
        async with r.store.begin() as unit:
            await inbox.answer(unit, "tax", waiting.task_id, FeedbackCreate(outcome="failed"), "")
    assert len(r.store.messages) == before  # a refused answer reports nothing


async def test_a_revocation_lifts_every_task() -> None:
    r = await responder()
    subject, envelopes = tax_designation()
    await r.feed(envelopes)
    await r.drain()
    (revoked,) = run(subject, revocation(envelopes[0].data["designation_id"]))
    await r.feed([revoked])
    await r.drain()
    every = {(m, d) for d, ms in tasks_of(envelopes[0]).items() for m in ms}
    reported = counted(r.feedback())
    assert {(m, d) for (m, d, k) in reported if k == "lifted"} == every
    assert {(m, d) for (m, d, k) in reported if k == "executed"} == every
    assert set(reported.values()) == {1}
    assert {(t.state, t.last_event_type) for t in r.store.tasks()} == {
        ("lifted", "jsb.designation.revoked")
    }


async def test_an_objection_suspends_and_its_rejection_resumes() -> None:
    r = await responder()
    subject, envelopes = tax_designation()
    did = envelopes[0].data["designation_id"]
    await r.feed(envelopes)
    await r.drain()
    filed = objection(did)
    await r.feed(run(subject, filed))
    await r.drain()
    assert {t.state for t in r.store.tasks()} == {"suspended"}
    await r.feed(run(subject, rejection(filed)))
    await r.drain()
    assert {t.state for t in r.store.tasks()} == {"executed"}
    every = {(m, d) for d, ms in tasks_of(envelopes[0]).items() for m in ms}
    reported = counted(r.feedback())
    for kind in ("executed", "suspended", "resumed"):
        assert {(m, d) for (m, d, k) in reported if k == kind} == every
    assert set(reported.values()) == {1}


async def test_a_duplicate_delivery_is_applied_once() -> None:
    r = await responder()
    _, envelopes = tax_designation()
    await r.feed(envelopes)
    await r.feed([*envelopes, *envelopes])  # re-published by a relay, redelivered
    await r.drain()
    await r.drain()  # nothing left: nothing reported again
    assert len(r.store.data.events) == 1
    every = {(m, d) for d, ms in tasks_of(envelopes[0]).items() for m in ms}
    reported = counted(r.feedback())
    assert {(m, d) for (m, d, k) in reported if k == "executed"} == every
    assert set(reported.values()) == {1}
    assert r.store.data.deliveries == set()  # the reading lists hold pending work only


async def test_a_designation_issued_again_under_another_event_id_is_applied_once() -> None:
    """A pass does not look up the tasks of a designation whose first delivery is its
    issue (it can have none yet). Published again under another event id, the issue
    finds them: the pass falls back to looking them up, and reports nothing new.
    Without the fallback its insert fails on every retry and the department stops."""
    r = await responder()
    _, envelopes = tax_designation()
    await r.feed(envelopes)
    await r.drain()
    tasks = dict(r.store.data.tasks)
    again = envelopes[0].model_copy(update={"id": uuid4()})
    await r.feed([again])
    await r.drain()
    assert len(r.store.data.events) == 2  # stored and delivered: another event id
    assert r.store.data.deliveries == set()  # applied by every department
    assert r.store.data.tasks.keys() == tasks.keys()
    every = {(m, d) for d, ms in tasks_of(envelopes[0]).items() for m in ms}
    reported = counted(r.feedback())
    assert {(m, d) for (m, d, k) in reported if k == "executed"} == every
    assert set(reported.values()) == {1}  # nothing reported twice


async def test_poison_is_dead_lettered_at_ingest_and_the_batch_goes_on() -> None:
    r = await responder()
    _, envelopes = tax_designation()
    await r.feed([b"{not json", *envelopes])
    await r.drain()
    (dead,) = r.dead_letters()
    assert dead.value == b"{not json"
    assert dead.headers["jsb-consumer"] == "responder.ingest"
    assert dead.headers["jsb-reason"]
    assert len(r.store.data.events) == 1
    assert r.feedback()


async def test_a_department_dead_letters_a_stored_event_it_cannot_read_and_goes_on() -> None:
    r = await responder()
    subject, envelopes = tax_designation()
    did = envelopes[0].data["designation_id"]
    await r.feed(envelopes)
    await r.drain()
    unreadable = {"mystery": True}
    async with r.store.begin() as unit:  # as if written by a newer version
        another = envelopes[0].model_copy(update={"id": uuid4()})
        position = await unit.events.append(another, UUID(did), 0, 99)
        assert position is not None
        await unit.deliveries.deliver(position, ["mof"])
    r.store.data.events[-1].envelope = unreadable
    (revoked,) = run(subject, revocation(did))
    await r.feed([revoked])
    await r.drain()
    (dead,) = r.dead_letters()
    assert dead.headers["jsb-consumer"] == "responder.department.mof"
    assert dead.headers["jsb-source-offset"] == "99"
    assert json.loads(dead.value) == unreadable
    reported = counted(r.feedback())
    every = {(m, d) for d, ms in tasks_of(envelopes[0]).items() for m in ms}
    assert {(m, d) for (m, d, k) in reported if k == "lifted"} == every  # mof went on
