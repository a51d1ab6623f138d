"""Killing the ledger (SIGKILL) in the middle of a burst and starting it again loses
nothing and duplicates nothing: a batch, its projections, its outbox rows and its
offsets are one Postgres transaction, and the consumer seeks to the stored offsets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.ledger import tables
from services.ledger.read_models import refresh
from shared.adapters.topics import DEADLETTER, STATUS
from shared.domain.envelope import Envelope
from tests.support.infra import Infra
from tests.support.ledger_events import Script, feedback
from tests.support.ledger_harness import Ledger, eventually, ledger
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.integration

SUBJECTS = 200  # x (1 designation + 1 feedback per task: 21) = 4,200 events, plus poison


@pytest.fixture
async def led(infra: Infra, tmp_path: Path) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path, run_app=False) as it:
        yield it


def _burst() -> list[Envelope]:
    out: list[Envelope] = []
    for _ in range(SUBJECTS):
        s = Script(new_uscc())
        issued = s.issue(level="especially_serious")  # the tax list has one level
        out += [issued, *feedback(issued)]
    return out


async def test_sigkill_mid_burst_loses_and_duplicates_nothing(led: Ledger, tmp_path: Path) -> None:
    burst = _burst()
    poison = 5
    await led.producer.send(burst)
    for i in range(poison):
        await led.producer.send_raw(led.topics.feedback, b"garbage", key=f"poison-{i}".encode())
    total = len(burst)

    proc = led.process(tmp_path, JSB_LEDGER_BATCH_SIZE="100")
    started = time.monotonic()
    proc.start()
    try:
        at_kill = await eventually(led.count, lambda n: n >= total // 4, timeout_s=60, every_s=0.02)
        proc.kill()  # SIGKILL: whatever batch was in flight is rolled back by Postgres
        assert at_kill < total, "the burst was ingested before the kill: not mid-stream"
        after_kill = await led.count()
        await asyncio.sleep(0.5)
        assert await led.count() == after_kill  # it is dead
        proc.start()
        await led.wait_events(total, timeout_s=120)
        await led.wait_caught_up(timeout_s=60)
        elapsed = time.monotonic() - started
    finally:
        proc.stop()
    print(f"ingested {total} events in {elapsed:.1f}s across a SIGKILL at {at_kill}")

    e, o = tables.events, tables.outbox
    async with led.engine.connect() as conn:
        stored = list((await conn.execute(select(e.c.event_id))).scalars())
        gaps = (
            await conn.execute(
                select(e.c.stream)
                .group_by(e.c.stream)
                .having(func.max(e.c.stream_version) != func.count())
            )
        ).all()
        dead = (
            await conn.execute(select(func.count()).where(o.c.topic.startswith(DEADLETTER)))
        ).scalar_one()
        latest_status = (
            await conn.execute(
                select(o.c.key, func.max(o.c.id))
                .where(o.c.topic.startswith(STATUS))
                .group_by(o.c.key)
            )
        ).all()
        heads = dict(
            (
                await conn.execute(
                    select(
                        tables.subject_status.c.subject_id, tables.subject_status.c.head_event_id
                    )
                )
            ).all()
        )
        caused: dict[str, str] = dict(
            (
                await conn.execute(
                    select(o.c.key, o.c.headers["jsb-caused-by"].astext).where(
                        o.c.id.in_([i for _, i in latest_status])
                    )
                )
            ).all()
        )
    assert len(stored) == total  # nothing lost, nothing twice
    assert set(stored) == {env.id for env in burst}
    assert gaps == []  # every stream's versions are 1..n
    assert dead == poison  # each poison record dead-lettered once
    assert len(heads) == SUBJECTS
    # the last status message of every subject names the subject's last event
    assert {k: str(v) for k, v in heads.items()} == caused

    live = await _projection_rows(led)
    async with led.engine.begin() as conn:
        await refresh.rebuild(conn)
    assert await _projection_rows(led) == live


async def _projection_rows(led: Ledger) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    async with led.engine.connect() as conn:
        for table in tables.PROJECTIONS:
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(r) for r in rows]
    return out


async def _status_messages(led: Ledger) -> dict[str, list[str]]:
    """Subject → the events its status messages were caused by, in outbox order."""
    o = tables.outbox
    out: dict[str, list[str]] = {}
    async with led.engine.connect() as conn:
        rows = await conn.execute(
            select(o.c.key, o.c.headers["jsb-caused-by"].astext)
            .where(o.c.topic.startswith(STATUS))
            .order_by(o.c.id)
        )
        for key, cause in rows:
            out.setdefault(key, []).append(cause)
    return out


async def test_sigkill_between_ingest_and_projection_publishes_each_status_once(
    led: Ledger, tmp_path: Path
) -> None:
    """Killed after ingest committed and before the projector ran, then again in the
    middle of the projection rounds: every subject is projected after the restart,
    and its status is published exactly once (each was queued once, at its head)."""
    burst = _burst()
    await led.producer.send(burst)
    holding = led.process(tmp_path, JSB_LEDGER_PROJECTION_DELAY_S="3600")
    holding.start()
    try:
        await led.wait_events(len(burst), timeout_s=120)
        await led.wait_caught_up_offsets(timeout_s=60)
        assert await led.count(tables.projection_queue) == SUBJECTS
    finally:
        holding.kill()  # SIGKILL: ingest committed, nothing projected
    assert await _status_messages(led) == {}
    assert await led.count(tables.subject_status) == 0

    rounds = led.process(tmp_path, JSB_LEDGER_PROJECTION_BATCH="5")
    rounds.start()
    try:
        at_kill = await eventually(
            lambda: led.count(tables.projection_queue), lambda n: n < SUBJECTS, every_s=0.01
        )
    finally:
        rounds.kill()  # in the middle of the projection rounds
    assert at_kill > 0, "every subject was projected before the kill: not mid-projection"

    again = led.process(tmp_path)
    again.start()
    try:
        await led.wait_projected(timeout_s=120)
    finally:
        again.stop()
    heads = await _heads(led)
    messages = await _status_messages(led)
    assert len(heads) == SUBJECTS
    assert messages == {subject: [str(head)] for subject, head in heads.items()}
    live = await _projection_rows(led)
    async with led.engine.begin() as conn:
        await refresh.rebuild(conn)
    assert await _projection_rows(led) == live


async def _heads(led: Ledger) -> dict[str, object]:
    s = tables.subject_status
    async with led.engine.connect() as conn:
        return dict((await conn.execute(select(s.c.subject_id, s.c.head_event_id))).all())
