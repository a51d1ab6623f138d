"""The responder's two stages on the real Postgres (issue 6): the ingest keeps what
concerns hosted departments and fans it out; each department applies its own
deliveries with its own cursor — once, whatever else fails or runs beside it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from services.responder import execution, store, tables
from services.responder.lanes import Lanes
from services.responder.pg_store import postgres_unit
from shared.adapters.db import make_engine
from shared.domain.commands import RevokeDesignation
from shared.domain.events import (
    MeasureExecuted,
    make_envelope,
)
from shared.domain.identifiers import org_code_of_uscc
from tests.support.infra import Infra, unique
from tests.support.responder_harness import (
    Harness,
    hosting,
    issue_command,
    kinds,
    objection,
    rejection,
    run,
)
from tests.support.subjects import new_resident_id, new_uscc
from tests.unit.domain_fixtures import Subject

pytestmark = pytest.mark.integration

TAX = "tax.major-violation"
COURT = "court.dishonest-debtor"
PROCUREMENT = "procurement.restrict_government_procurement"


@pytest.fixture
async def harness(infra: Infra, schema_suffix: str) -> AsyncIterator[Harness]:
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    h = Harness(engine, hosting(), "." + unique())
    await h.ensure()
    yield h
    await engine.dispose()


def tax_designation() -> tuple[Subject, list]:  # type: ignore[type-arg]
    subject = Subject(new_uscc())
    return subject, run(subject, issue_command(subject.subject_id, TAX, "tax"))


def task_set(envelopes: list) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(t["measure"], t["department"]) for t in envelopes[0].data["tasks"]}


async def test_a_designation_reaches_each_concerned_department_once(harness: Harness) -> None:
    _, envelopes = tax_designation()
    await harness.feed(envelopes)
    await harness.feed(envelopes)  # published twice by a relay: stored once
    concerned = {d for _, d in task_set(envelopes)}
    async with harness.engine.connect() as conn:
        stored = await conn.scalar(select(func.count()).select_from(tables.designation_events))
        delivered = (await conn.execute(select(tables.deliveries.c.department))).all()
    assert stored == 1
    assert sorted(r.department for r in delivered) == sorted(concerned)  # one each
    await harness.drain()
    await harness.drain()  # nothing left: nothing reported again
    counts = await harness.feedback()
    assert kinds(counts, "executed") == task_set(envelopes)
    assert set(counts.values()) == {1}
    async with harness.engine.connect() as conn:  # the reading lists hold pending work only
        assert await conn.scalar(select(func.count()).select_from(tables.deliveries)) == 0
    assert await harness.cursor("mof") == 1
    assert await harness.cursor("caac") == 0  # not concerned: nothing to read


async def test_a_designation_issued_again_under_another_event_id_is_applied_once(
    harness: Harness,
) -> None:
    """A pass does not lock the tasks of a designation whose first delivery is its issue
    (none can exist yet). Published again under another event id, the issue finds them:
    the COPY of its rows fails, and the pass is made again, locking them, in a new
    transaction. Without that fallback the department fails on every retry."""
    _, envelopes = tax_designation()
    await harness.feed(envelopes)
    await harness.drain()
    before = {(r.task_id, r.state, r.last_event_id) for r in await harness.tasks()}
    again = envelopes[0].model_copy(update={"id": uuid4()})
    await harness.feed([again])
    await harness.drain()
    counts = await harness.feedback()
    assert kinds(counts, "executed") == task_set(envelopes)
    assert set(counts.values()) == {1}  # nothing reported twice
    after = await harness.tasks()
    assert {r.task_id for r in after} == {t for t, _, _ in before}
    assert {r.last_event_id for r in after} == {again.id}  # the second issue applied
    async with harness.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.deliveries)) == 0
    assert await harness.cursor("mof") == 2


async def test_a_failing_department_holds_back_only_itself(harness: Harness) -> None:
    _, envelopes = tax_designation()
    await harness.feed(envelopes)
    broken = {"mof"}

    async def advance(department: str) -> bool:
        if department in broken:
            raise RuntimeError("mof's system is down")
        return await harness.advance(department)

    lanes = Lanes(
        harness.store, harness.hosting.departments, advance, scan_interval_s=0.2, max_backoff_s=0.5
    )
    stop = asyncio.Event()
    running = asyncio.create_task(lanes.run(stop))
    try:
        others = {t for t in task_set(envelopes) if t[1] != "mof"}
        counts = await _until(harness, lambda c: kinds(c, "executed") >= others)
        assert not {t for t in kinds(counts, "executed") if t[1] == "mof"}
        assert await harness.cursor("mof") == 0
        assert lanes.failures["mof"] >= 1
        broken.clear()  # mof comes back and catches up; nobody else re-executes
        counts = await _until(harness, lambda c: kinds(c, "executed") == task_set(envelopes))
        assert set(counts.values()) == {1}
    finally:
        stop.set()
        await running


async def _until(harness: Harness, ok, timeout_s: float = 20):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        counts = await harness.feedback()
        if ok(counts):
            return counts
        assert asyncio.get_running_loop().time() < deadline, counts
        await asyncio.sleep(0.1)


async def test_two_instances_of_one_department_apply_each_event_once(
    harness: Harness, infra: Infra, schema_suffix: str
) -> None:
    for _ in range(6):
        await harness.feed(tax_designation()[1])
    other = make_engine(infra.database_url, schema="responder" + schema_suffix)
    try:
        twin = Harness(other, harness.hosting, harness.suffix)
        twin.ctx = execution.Context(harness.hosting, harness.suffix, batch=2)
        harness.ctx = execution.Context(harness.hosting, harness.suffix, batch=2)
        await asyncio.gather(harness.drain(["mof"]), twin.drain(["mof"]))
    finally:
        await other.dispose()
    counts = await harness.feedback()
    mof = {t for t in task_set(tax_designation()[1]) if t[1] == "mof"}
    assert kinds(counts, "executed") == mof
    assert sum(counts.values()) == 6 * len(mof)  # six designations, each task once
    assert set(counts.values()) == {1}


async def _expiring(harness: Harness, ends: datetime) -> tuple[Subject, list]:  # type: ignore[type-arg]
    """A tax designation with one measure (mof's) ending at `ends`, applied."""
    subject = Subject(new_uscc())
    envelopes = run(
        subject,
        issue_command(
            subject.subject_id, TAX, "tax", measures=(PROCUREMENT,), effective_until=ends
        ),
    )
    await harness.feed(envelopes)
    await harness.drain()
    return subject, envelopes


async def test_the_clock_lifts_at_the_end_without_any_event(harness: Harness) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=6)  # time enough for a loaded machine
    _, envelopes = await _expiring(harness, ends)
    (task,) = await harness.tasks("mof")
    assert (task.state, task.wake_at) == ("executed", ends)
    assert not await harness.advance("mof")  # nothing due yet
    await asyncio.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.2)
    async with harness.engine.connect() as conn:
        assert await store.pending_departments(conn, ["mof", "tax"], datetime.now(UTC)) == ["mof"]
    await harness.advance("mof")
    (task,) = await harness.tasks("mof")
    assert (task.state, task.wake_at, task.last_event_type) == ("lifted", None, "clock")
    counts = await harness.feedback()
    assert counts[(str(envelopes[0].data["designation_id"]), PROCUREMENT, "mof", "lifted")] == 1
    await harness.drain()
    assert await harness.feedback() == counts


async def test_an_event_and_the_clock_in_one_pass_leave_the_events_mark(
    harness: Harness,
) -> None:
    """A pass whose delivery ends a task that the clock also finds due: the event's
    rows are written before the clock reads `wake_at`, so the clock does not take the
    task up again (found with the pass's writes gathered to its end)."""
    ends = datetime.now(UTC) + timedelta(seconds=3)
    subject, envelopes = await _expiring(harness, ends)
    await asyncio.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.2)
    did = envelopes[0].data["designation_id"]
    revoke = RevokeDesignation(
        department="tax", at=ends - timedelta(seconds=1), designation_id=did, reason="wrong"
    )
    await harness.feed(run(subject, revoke))
    await harness.advance("mof")  # the revocation and the due clock, in one pass
    (task,) = await harness.tasks("mof")
    assert (task.state, task.wake_at, task.last_event_type) == (
        "lifted",
        None,
        "jsb.designation.revoked",
    )
    counts = await harness.feedback()
    assert counts[(str(did), PROCUREMENT, "mof", "lifted")] == 1


async def test_objection_suspends_pending_and_executed_tasks_and_rejection_resumes(
    infra: Infra, schema_suffix: str
) -> None:
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    h = Harness(engine, hosting(execution_modes={PROCUREMENT: "manual"}), "." + unique())
    try:
        await h.ensure()
        subject, envelopes = tax_designation()
        did = envelopes[0].data["designation_id"]
        await h.feed(envelopes)
        await h.drain()
        states = {t.measure: t.state for t in await h.tasks("mof")}
        assert states[PROCUREMENT] == "pending"  # manual: waits for an officer
        filed = objection(did)
        await h.feed(run(subject, filed))
        await h.drain()
        counts = await h.feedback()
        assert kinds(counts, "suspended") == task_set(envelopes)
        assert {t.state for t in await h.tasks()} == {"suspended"}
        await h.feed(run(subject, rejection(filed)))
        await h.drain()
        counts = await h.feedback()
        assert kinds(counts, "resumed") == task_set(envelopes)
        states = {t.measure: t.state for t in await h.tasks("mof")}
        assert states[PROCUREMENT] == "pending"
        assert {s for m, s in states.items() if m != PROCUREMENT} == {"executed"}
        assert set(counts.values()) == {1}
    finally:
        await engine.dispose()


async def test_a_department_dead_letters_what_it_cannot_apply_and_goes_on(
    harness: Harness,
) -> None:
    subject, envelopes = tax_designation()
    did = envelopes[0].data["designation_id"]
    await harness.feed(envelopes)
    await harness.drain()
    # A stored event this department cannot read (as if written by a newer version).
    async with harness.engine.begin() as conn:
        position = await conn.scalar(
            tables.designation_events.insert()
            .values(
                event_id=did,
                subject_id=subject.subject_id,
                designation_id=did,
                type="jsb.designation.mystery",
                effective_at=datetime.now(UTC),
                envelope={"mystery": True},
                source_partition=0,
                source_offset=99,
            )
            .returning(tables.designation_events.c.position)
        )
        await conn.execute(tables.deliveries.insert().values(department="mof", position=position))
    revoke = RevokeDesignation(
        department="tax", at=datetime.now(UTC), designation_id=did, reason="wrong"
    )
    await harness.feed(run(subject, revoke))
    await harness.drain()
    (dead,) = await harness.dead_letters()
    assert dead.headers["jsb-consumer"] == "responder.department.mof"
    assert dead.headers["jsb-source-offset"] == "99"
    assert json.loads(dead.value) == {"mystery": True}
    counts = await harness.feedback()
    assert kinds(counts, "lifted") == task_set(envelopes)  # mof went on to the revocation
    assert await harness.cursor("mof") == position + 1


async def test_ingest_dead_letters_poison_and_indexes_every_identifier(harness: Harness) -> None:
    subject, envelopes = tax_designation()
    unknown = envelopes[0].model_copy(update={"type": "jsb.designation.unheard_of"})
    feedback = make_envelope(
        MeasureExecuted(
            designation_id=envelopes[0].data["designation_id"],
            measure=PROCUREMENT,
            department="mof",
        ),
        subject=subject.subject_id,
        source="/responder/mof",
        time=datetime.now(UTC),
    )
    await harness.feed([b"not json", unknown, feedback, *envelopes])
    dead = await harness.dead_letters()
    assert [d.headers["jsb-consumer"] for d in dead] == ["responder.ingest"] * 3
    assert "not a lifecycle event" in dead[2].headers["jsb-reason"]
    async with harness.engine.connect() as conn:
        assert await store.subjects_of(conn, org_code_of_uscc(subject.subject_id)) == [
            subject.subject_id
        ]


async def test_only_what_concerns_hosted_departments_is_kept(
    infra: Infra, schema_suffix: str
) -> None:
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    h = Harness(engine, hosting(departments="caac"), "." + unique())
    try:
        await h.ensure()
        await h.feed(tax_designation()[1])  # no caac measure in it
        person = Subject(new_resident_id())
        await h.feed(run(person, issue_command(person.subject_id, COURT, "court")))
        async with engine.connect() as conn:
            kept = (await conn.execute(select(tables.designation_events.c.subject_id))).all()
            departments = (await conn.execute(select(tables.deliveries.c.department))).all()
        await h.drain()
        assert [r.subject_id for r in kept] == [person.subject_id]
        assert {r.department for r in departments} == {"caac"}
        assert {t.department for t in await h.tasks()} == {"caac"}
    finally:
        await engine.dispose()


async def test_lanes_stop_cleanly(harness: Harness) -> None:
    lanes = Lanes(harness.store, ["mof"], harness.advance, scan_interval_s=0.1)
    stop = asyncio.Event()
    running = asyncio.create_task(lanes.run(stop))
    await asyncio.sleep(0.3)
    stop.set()
    # Clean: the lane returns by itself once asked to stop — not cancelled by the
    # timeout (wait_for would raise TimeoutError), not ended by an error.
    await asyncio.wait_for(asyncio.shield(running), 5)
    assert running.done()
    assert not running.cancelled()
    assert running.exception() is None
    assert lanes.passes["mof"] >= 1


async def test_responders_in_other_schemas_ingest_without_waiting_for_each_other(
    harness: Harness, infra: Infra
) -> None:
    from shared.adapters.migrations import upgrade_all
    from tests.conftest import drop_schemas

    suffix = "_" + unique()
    await asyncio.to_thread(
        upgrade_all, url=infra.admin_url, schema_suffix=suffix, role=infra.service_role
    )
    engine = make_engine(infra.database_url, schema="responder" + suffix)
    other = Harness(engine, hosting(), harness.suffix)
    try:
        _, envelopes = tax_designation()
        async with harness.engine.begin() as conn:  # holds this schema's ingest lock
            await harness.ingest(
                postgres_unit(conn), [harness.record(envelopes[0].to_json_bytes())]
            )
            await asyncio.wait_for(other.feed(envelopes), 15)
        assert await other.tasks() == []  # stored and delivered, not applied yet
        async with engine.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(tables.designation_events))
        assert stored == 1
    finally:
        await engine.dispose()
        await asyncio.to_thread(drop_schemas, infra.admin_url, suffix)
