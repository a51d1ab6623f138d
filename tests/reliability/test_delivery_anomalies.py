"""Delivery anomalies (issue 13 part 3): every record of the designation and feedback
topics delivered again (duplicates), feedback published before its designation, and
every consumer group reset to the beginning (its stored offsets deleted, the service
restarted): the ledger's statuses and histories and the responder's tasks are
identical to those of the clean run before."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.adapters.topics import DESIGNATIONS, FEEDBACK
from tests.support.ledger_events import Script, feedback
from tests.support.ledger_harness import read_topic
from tests.support.poll import until
from tests.support.raw_kafka import produce_raw
from tests.support.responder_flows import (
    designate,
    history,
    responder_tasks,
    tasks_of,
    wait_feedback,
)
from tests.support.soak_probe import lag
from tests.support.stack import Stack
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.e2e

COURT = "court.dishonest-debtor"
CONSUMING = ("ledger", "responder", "notifier")


def snapshot(stack: Stack, subjects: list[str], designations: dict[str, Any], at: str) -> Any:
    """What a clean run leaves: each subject's status at `at` and history, each
    designation's tasks as each department sees them."""
    out: dict[str, Any] = {}
    with stack.client("ledger", as_="auditor") as ledger:
        for s in subjects:
            status = ledger.get(f"/v1/subjects/{s}/status", params={"as_of": at}).json()
            status.pop("known_at", None)
            out[s] = (status, [e["event_id"] for e in history(stack, s)])
    for did, designation in designations.items():
        for _measure, department in sorted(tasks_of(designation)):
            tasks = responder_tasks(stack, department, did)
            out[f"{did}/{department}"] = sorted(
                tasks, key=lambda t: (t["measure"], t.get("task_id", ""))
            )
    return out


def settled(stack: Stack, subjects: list[str], designations: dict[str, Any], at: str) -> Any:
    """The snapshot once every consumer has caught up and two reads agree."""
    until(lambda: lag(stack), lambda ls: bool(ls) and all(v == 0 for v in ls.values()), 180)
    previous = snapshot(stack, subjects, designations, at)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        time.sleep(3)
        now = snapshot(stack, subjects, designations, at)
        if now == previous:
            return now
        previous = now
    raise AssertionError("the statuses and tasks did not settle in 180 s")


def reset_offsets(stack: Stack) -> None:
    async def run() -> None:
        engine = create_async_engine(stack.infra.admin_url)
        async with engine.begin() as conn:
            for service in CONSUMING:
                await conn.execute(
                    text(f'DELETE FROM "{service}{stack.schema_suffix}".consumer_offsets')
                )
        await engine.dispose()

    asyncio.run(run())


def test_duplicates_early_feedback_and_a_group_reset_change_nothing(stack: Stack) -> None:
    made = {}
    subjects = []
    for _ in range(3):
        person = new_resident_id()
        d = designate(stack, person, COURT, subject={"id": person, "name": "钱七"})
        made[str(d["designation_id"])] = d
        subjects.append(person)
    for person, (did, d) in zip(subjects, made.items(), strict=True):
        wait_feedback(stack, person, did, "executed", tasks_of(d), timeout_s=120)

    # Feedback before its designation (another producer's order): the ledger holds it.
    early = Script(new_uscc())
    issued = early.issue(at=datetime.now(UTC) - timedelta(hours=1))
    fb = feedback(issued, at=datetime.now(UTC) - timedelta(minutes=30))
    produce_raw(stack, [(FEEDBACK, e.subject.encode(), e.to_json_bytes()) for e in fb])
    produce_raw(stack, [(DESIGNATIONS, issued.subject.encode(), issued.to_json_bytes())])
    subjects.append(early.subject_id)
    until(lambda: history(stack, early.subject_id), lambda h: len(h) >= 1 + len(fb), 120)

    at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    clean = settled(stack, subjects, made, at)
    mine = [e["event_id"] for e in history(stack, early.subject_id)]
    assert {str(issued.id), *(str(e.id) for e in fb)} <= set(mine)

    # Every record delivered again.
    for topic in (DESIGNATIONS, FEEDBACK):
        records = asyncio.run(read_topic(stack.infra, topic + stack.topic_suffix))
        produce_raw(stack, [(topic, r.key, r.value) for r in records])
    assert settled(stack, subjects, made, at) == clean

    # Every consumer group reset to the beginning.
    for name in CONSUMING:
        stack.services[name].stop()
    reset_offsets(stack)
    for name in CONSUMING:
        stack.services[name].start(wait=False)
    for name in CONSUMING:
        stack.services[name].wait_ready(180)
    assert settled(stack, subjects, made, at) == clean
