"""The event store is append-only by the database, and tampering behind its back is
caught by `history/verify`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.infra import Infra
from tests.support.ledger_events import Script, feedback
from tests.support.ledger_harness import Ledger, ledger
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def led(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path_factory.mktemp("ledger")) as it:
        yield it


async def _ingested(led: Ledger, tasks: int = 3) -> str:
    s = Script(new_uscc())
    issued = s.issue()
    await led.producer.send([issued, *feedback(issued, only=tasks)])
    await led.wait_caught_up()
    return s.subject_id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'x' WHERE stream = :s",
        "UPDATE events SET payload = payload WHERE stream = :s",
        "DELETE FROM events WHERE stream = :s",
        "TRUNCATE events",
    ],
)
@pytest.mark.parametrize("role", ["service", "admin"])
async def test_updates_and_deletes_on_events_are_refused(
    led: Ledger, role: str, statement: str
) -> None:
    subject = await _ingested(led, tasks=1)
    engine = led.engine if role == "service" else led.admin
    with pytest.raises(DBAPIError) as refused:
        async with engine.begin() as conn:
            await conn.execute(text(statement), {"s": subject})
    message = str(refused.value.orig)
    if role == "service":
        # the service role has no such grant: refused before the trigger runs
        assert "permission denied" in message
    else:
        # the owner has the grant: the trigger refuses it
        assert "append-only" in message
    assert len((await led.get(f"/v1/subjects/{subject}/history"))["events"]) == 2


async def test_a_tampered_payload_is_reported_by_verify(led: Ledger) -> None:
    subject = await _ingested(led)
    untouched = await _ingested(led)
    history = (await led.get(f"/v1/subjects/{subject}/history"))["events"]
    assert (await led.get(f"/v1/subjects/{subject}/history/verify"))["ok"] is True
    victim = history[2]

    # A superuser-like owner disables the trigger for one transaction and edits a row.
    async with led.admin.begin() as conn:
        await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        await conn.execute(
            text(
                "UPDATE events SET payload = jsonb_set(payload, '{data,note}', '\"forged\"') "
                "WHERE position = :p"
            ),
            {"p": victim["position"]},
        )
        await conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_append_only"))

    report = await led.get(f"/v1/subjects/{subject}/history/verify")
    assert report["ok"] is False
    broken = report["first_broken"]
    assert broken["position"] == victim["position"]
    assert broken["stream_version"] == 3
    assert broken["event_id"] == victim["event_id"]
    assert broken["reason"] == "hash_mismatch"
    assert (await led.get(f"/v1/subjects/{untouched}/history/verify"))["ok"] is True
    # the trigger is back on
    with pytest.raises(DBAPIError):
        async with led.admin.begin() as conn:
            await conn.execute(text("DELETE FROM events WHERE stream = :s"), {"s": subject})
