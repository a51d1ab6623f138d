"""`jsb ledger rebuild` drops the projections and rebuilds them from the events alone;
the result equals what ingest maintained incrementally, row for row."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from services.ledger import tables
from services.ledger.read_models import refresh
from shared.adapters.settings import PROJECT_ROOT
from shared.domain.commands import (
    AmendDesignation,
    DesignationChanges,
    FileObjection,
    RevokeDesignation,
)
from shared.domain.event_base import RaisedBy
from shared.domain.events import MeasureSuspended
from tests.support.infra import Infra
from tests.support.ledger_events import T0, Script, designation_id, feedback
from tests.support.ledger_harness import Ledger, ledger
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def led(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path_factory.mktemp("ledger")) as it:
        yield it


async def dump(led: Ledger) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    async with led.engine.connect() as conn:
        for table in tables.PROJECTIONS:
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [dict(r._mapping) for r in rows]
    return out


async def _varied_history(led: Ledger) -> None:
    day = timedelta(days=1)
    org = Script(new_uscc())
    person = new_resident_id()
    parent = org.issue(related=[(person, "legal_representative")])
    org.run(
        AmendDesignation(
            department="tax",
            at=T0 + day,
            designation_id=designation_id(parent),
            changes=DesignationChanges(subject_name="某某商贸有限公司"),
            reason="名称变更",
        )
    )
    related = [e for e in org.others if e.subject == person]
    objected = Script(new_uscc())
    third = objected.issue(list_type="market.serious-illegal", level="especially_serious")
    objected.run(
        FileObjection(
            department="samr",
            at=T0 + 2 * day,
            designation_id=designation_id(third),
            raised_by=RaisedBy.SUBJECT,
            grounds="数据有误",
        )
    )
    revoked = Script(new_uscc())
    gone = revoked.issue()
    revoked.run(
        RevokeDesignation(
            department="tax", at=T0 + 3 * day, designation_id=designation_id(gone), reason="错误"
        )
    )
    red = Script(new_uscc())
    red.issue(list_type="tax.a-grade", level="minor")
    red.issue(list_type="court.dishonest-debtor", level="especially_serious", at=T0 + 5 * day)
    orphan = Script(new_uscc())
    never_arrives = orphan.issue()
    # In stages, so that the live projections are maintained incrementally (feedback
    # before its designation, amendments and revocations after what they change).
    stages = [
        [*feedback(parent, only=4), *feedback(never_arrives, only=2), *red.envelopes[:1]],
        [*org.envelopes[:1], *related, *objected.envelopes[:1], *revoked.envelopes[:1]],
        [*org.envelopes[1:], *feedback(related[0], only=2), *feedback(gone)],
        [*objected.envelopes[1:], *feedback(third, kind=MeasureSuspended, only=2)],
        [*revoked.envelopes[1:], *red.envelopes[1:]],
    ]
    for stage in stages:
        await led.producer.send(stage)
        await led.wait_caught_up()


async def test_a_rebuild_equals_the_live_projections(led: Ledger) -> None:
    await _varied_history(led)
    live = await dump(led)
    assert all(live[t.name] for t in tables.PROJECTIONS), {k: len(v) for k, v in live.items()}
    # noise a rebuild must drop
    async with led.engine.begin() as conn:
        await conn.execute(
            insert(tables.subject_identifiers).values(identifier="NOISE", subject_id="NOISE")
        )

    calls: list[tuple[int, int]] = []
    async with led.engine.begin() as conn:
        events, subjects = await refresh.rebuild(
            conn, lambda e, s: calls.append((e, s)), chunk_subjects=2
        )
    assert events == await led.count()
    assert sum(e for e, _ in calls) == events
    assert sum(s for _, s in calls) == subjects == len(live["subject_status"])
    assert await dump(led) == live

    # the operator's command, as a process of its own (service role, the test's schema)
    env = {**os.environ, "DATABASE_URL": led.infra.database_url}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "shared.cli.main", "ledger", "rebuild", "--schema", led.schema],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"rebuilt the projections of {subjects} subjects from {events} events" in done.stdout
    assert "rebuilding projections" in done.stderr  # the progress bar
    assert await dump(led) == live

    verified = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "shared.cli.main", "ledger", "verify", "--schema", led.schema],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"verified {subjects} streams: 0 broken" in verified.stdout
