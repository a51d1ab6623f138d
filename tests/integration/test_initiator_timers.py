"""Timers on the real Postgres (issue 5 §4): planned in the transaction of their
cause, fired once when due through the domain, cancelled when moot, kept across a
restart. Reminder deadlines lie weeks ahead, so the tests move `due_at` instead of
waiting; the expiry uses a period that ends seconds ahead."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.initiator.timer_loop import TimerLoop
from tests.support import initiator_bodies as bodies
from tests.support.infra import Infra
from tests.support.initiator_app import Running, running_initiator, settings_for

pytestmark = pytest.mark.integration

MANUAL = 3600.0  # the loop's own rounds never come: the test runs them


async def outbox_types(run: Running, designation_id: str) -> list[str]:
    rows = await run.rows(
        "SELECT convert_from(value, 'UTF8')::jsonb AS env FROM outbox ORDER BY id"
    )
    return [
        r.env["type"] + (f":{r.env['data']['stage']}" if "stage" in r.env["data"] else "")
        for r in rows
        if r.env["data"].get("designation_id") == designation_id
    ]


async def timers(run: Running, designation_id: str) -> dict[str, tuple[Any, Any]]:
    rows = await run.rows(
        "SELECT kind, due_at, outcome FROM timers WHERE designation_id = CAST(:d AS uuid)",
        d=designation_id,
    )
    return {r.kind: (r.due_at, r.outcome) for r in rows}


async def test_objection_reminders_fire_once_then_stop(
    infra: Infra, topic_suffix: str, schema_suffix: str, tmp_path: Path
) -> None:
    settings = settings_for(infra, topic_suffix, schema_suffix, tmp_path, timer_poll_s=MANUAL)
    async with running_initiator(settings) as run, run.client("samr") as samr:
        body = bodies.designation(list_type=bodies.BLACK, level="especially_serious")
        did = (await samr.post("/v1/designations", json=body)).json()["designation_id"]
        filed = await samr.post(
            f"/v1/designations/{did}/objections", json={"raised_by": "subject", "grounds": "x"}
        )
        assert filed.status_code == 201, filed.text
        planned = await timers(run, did)
        # The black-list regime pauses the clock during review: the expiry waits.
        assert planned["expire"][1] == "cancelled"
        assert planned["objection_nearing"][1] is None
        assert planned["objection_passed"][1] is None
        assert planned["objection_nearing"][0] > datetime.now(UTC) + timedelta(days=5)

        loop: TimerLoop = run.app.state.timers
        assert await loop.run_once() == 0  # nothing due yet
        await run.rows("UPDATE timers SET due_at = now() WHERE kind = 'objection_nearing'")
        assert await loop.run_once() == 1
        assert await loop.run_once() == 0  # fired once, not again
        await run.rows("UPDATE timers SET due_at = now() WHERE kind = 'objection_passed'")
        assert await loop.run_once() == 1
        assert (await outbox_types(run, did))[-2:] == [
            "jsb.objection.reminder:nearing",
            "jsb.objection.reminder:passed",
        ]
        resolved = await samr.post(
            f"/v1/objections/{filed.json()['objection_id']}/resolution",
            json={"outcome": "rejected", "note": "不成立"},
        )
        assert resolved.status_code == 200, resolved.text
        after = await timers(run, did)
        assert after["objection_nearing"][1] == "fired"
        assert after["objection_passed"][1] == "fired"
        # In force again, with its end moved by the paused time: the expiry is re-armed.
        assert after["expire"][1] is None
        assert after["expire"][0] > planned["expire"][0]


async def test_expiry_fires_when_the_period_ends_and_revocation_cancels(
    infra: Infra, topic_suffix: str, schema_suffix: str, tmp_path: Path
) -> None:
    settings = settings_for(infra, topic_suffix, schema_suffix, tmp_path)
    async with running_initiator(settings) as run, run.client("tax") as tax:
        ending = bodies.designation(effective_until=bodies.seconds_ahead(1.5))
        lasting = bodies.designation(effective_until=bodies.seconds_ahead(1.5))
        did = (await tax.post("/v1/designations", json=ending)).json()["designation_id"]
        kept = (await tax.post("/v1/designations", json=lasting)).json()["designation_id"]
        revoked = await tax.post(f"/v1/designations/{kept}/revocation", json={"reason": "错"})
        assert revoked.status_code == 200
        assert (await timers(run, kept))["expire"][1] == "cancelled"

        async def fired() -> list[str]:
            return await outbox_types(run, did)

        deadline = asyncio.get_running_loop().time() + 20
        while "jsb.designation.expired" not in await fired():
            assert asyncio.get_running_loop().time() < deadline, await timers(run, did)
            await asyncio.sleep(0.2)
        assert (await fired()).count("jsb.designation.expired") == 1
        assert (await timers(run, did))["expire"][1] == "fired"
        shown = (await tax.get(f"/v1/designations/{did}")).json()
        assert shown["state"] == "expired"
        assert "jsb.designation.expired" not in await outbox_types(run, kept)


async def test_two_timer_loops_fire_a_timer_once(
    infra: Infra, topic_suffix: str, schema_suffix: str, tmp_path: Path
) -> None:
    settings = settings_for(infra, topic_suffix, schema_suffix, tmp_path, timer_poll_s=MANUAL)
    async with running_initiator(settings) as run, run.client("tax") as tax:
        dids = []
        for _ in range(20):
            body = bodies.designation(effective_until=bodies.seconds_ahead(0.5))
            dids.append((await tax.post("/v1/designations", json=body)).json()["designation_id"])
        await asyncio.sleep(0.6)
        mine: TimerLoop = run.app.state.timers
        other = TimerLoop(run.engine, mine._ctx, poll_s=MANUAL, batch=100)  # a second instance
        handled = await asyncio.gather(mine.run_once(), other.run_once())
        assert sum(handled) == 20
        for did in dids:
            assert (await outbox_types(run, did)).count("jsb.designation.expired") == 1


async def test_timers_outlive_the_process(
    infra: Infra, topic_suffix: str, schema_suffix: str, tmp_path: Path
) -> None:
    settings = settings_for(infra, topic_suffix, schema_suffix, tmp_path)
    async with running_initiator(settings) as run, run.client("tax") as tax:
        body = bodies.designation(effective_until=bodies.seconds_ahead(2))
        did = (await tax.post("/v1/designations", json=body)).json()["designation_id"]
    # The first process is gone before the end; a new one fires the expiry.
    async with running_initiator(settings) as again:
        deadline = asyncio.get_running_loop().time() + 20
        while (await timers(again, did))["expire"][1] != "fired":
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.2)
        assert (await outbox_types(again, did)) == [
            "jsb.designation.issued",
            "jsb.designation.expired",
        ]


async def test_a_timer_that_comes_too_early_is_asked_again(
    infra: Infra, topic_suffix: str, schema_suffix: str, tmp_path: Path
) -> None:
    settings = settings_for(infra, topic_suffix, schema_suffix, tmp_path, timer_poll_s=MANUAL)
    async with running_initiator(settings) as run, run.client("tax") as tax:
        body = bodies.designation(effective_until=bodies.seconds_ahead(60))
        did = (await tax.post("/v1/designations", json=body)).json()["designation_id"]
        await run.rows("UPDATE timers SET due_at = now() WHERE kind = 'expire'")
        loop: TimerLoop = run.app.state.timers
        assert await loop.run_once() == 0  # refused as not yet expired: postponed, not done
        [row] = await run.rows("SELECT due_at > now() AS later, done_at, outcome FROM timers")
        assert (row.later, row.done_at, row.outcome) == (True, None, "retry: not_yet_expired")
        assert "jsb.designation.expired" not in await outbox_types(run, did)
