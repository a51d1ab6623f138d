"""Ingest against the real Kafka and Postgres: both topics, duplicates, feedback that
overtakes its designation, poison messages, and the status stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from services.ledger import tables
from services.ledger.access import status_for
from shared.domain.envelope import Envelope
from shared.domain.events import make_envelope
from shared.domain.fold import Recorded, status
from shared.domain.lifecycle_events import DesignationIssued
from shared.web.auth import AUDITOR, Principal
from tests.support.infra import Infra
from tests.support.ledger_events import T0, Script, designation_id, feedback
from tests.support.ledger_harness import Ledger, eventually, ledger, read_topic
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def led(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path_factory.mktemp("ledger")) as it:
        yield it


async def _history(led: Ledger, subject: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = (await led.get(f"/v1/subjects/{subject}/history"))["events"]
    return events


async def test_both_topics_are_ingested_and_each_change_streams_a_status(led: Ledger) -> None:
    s = Script(new_uscc())
    issued = s.issue()
    fb = feedback(issued)
    await led.producer.send([issued, *fb])
    await led.wait_caught_up()

    events = await _history(led, s.subject_id)
    assert {e["event_id"] for e in events} == {str(x.id) for x in (issued, *fb)}
    sources = {e["source"]["topic"] for e in events}
    assert sources == {led.topics.designations, led.topics.feedback}

    head = events[-1]["event_id"]

    async def ours_() -> list[Any]:
        records = await read_topic(led.infra, led.topics.status)
        return [r for r in records if r.key == s.subject_id.encode()]

    # the relay publishes after the ingest transaction commits: wait for the last one
    ours = await eventually(
        ours_, lambda rs: any(json.loads(r.value)["data"]["caused_by"] == head for r in rs)
    )
    assert len({r.partition for r in ours}) == 1  # keyed by subject: one partition, in order
    latest = json.loads(max(ours, key=lambda r: r.offset).value)
    assert latest["type"] == "jsb.status.changed"
    assert latest["subject"] == s.subject_id
    assert latest["data"]["caused_by"] == head
    assert latest["data"]["restricted"] is True
    tasks = latest["data"]["designations"][0]["tasks"]
    assert {t["state"] for t in tasks} == {"executed"}


async def test_duplicate_delivery_appends_once(led: Ledger) -> None:
    s = Script(new_uscc())
    issued = s.issue()
    fb = feedback(issued, only=3)
    await led.producer.send([issued, issued, *fb, *fb])  # within one batch
    await led.wait_caught_up()
    await led.producer.send([issued, *fb])  # and again, later
    await led.wait_caught_up()
    events = await _history(led, s.subject_id)
    assert len(events) == 4
    assert [e["stream_version"] for e in events] == [1, 2, 3, 4]
    assert (await led.get(f"/v1/subjects/{s.subject_id}/history/verify"))["ok"] is True


async def test_feedback_arriving_before_its_designation_ends_in_the_same_status(
    led: Ledger,
) -> None:
    s = Script(new_uscc())
    issued = s.issue()
    fb = feedback(issued)
    await led.producer.send(fb)
    await led.wait_caught_up()
    early = await led.get(f"/v1/subjects/{s.subject_id}/status")
    assert early["designations"] == []  # held by the fold until the designation arrives
    await led.producer.send([issued])
    await led.wait_caught_up()

    as_of = T0 + timedelta(days=2)
    got = await led.get(f"/v1/subjects/{s.subject_id}/status", as_of=as_of.isoformat())
    in_order = [Recorded(e, e.time) for e in (issued, *fb)]
    expected = status_for(Principal(AUDITOR, frozenset({AUDITOR})), status(in_order, as_of))
    got.pop("known_at")
    expected.pop("known_at")
    assert got == expected
    assert {t["state"] for t in got["designations"][0]["tasks"]} == {"executed"}


async def test_poison_goes_to_the_dead_letter_topic_and_ingest_goes_on(led: Ledger) -> None:
    s = Script(new_uscc())
    good = s.issue()
    unknown = make_envelope(
        DesignationIssued.model_validate(good.data), subject=s.subject_id, source="/x", time=T0
    ).model_copy(update={"type": "jsb.designation.teleported"})
    invalid = Envelope(
        type="jsb.designation.issued",
        source="/x",
        subject=s.subject_id,
        time=T0,
        data={"designation_id": str(designation_id(good))},
    )
    nul = feedback(good, only=1)[0]
    nul = nul.model_copy(update={"data": {**nul.data, "note": "a\x00b"}})
    poison = {
        b"p-nul": nul.to_json_bytes(),
        b"p-json": b"{not json",
        b"p-type": unknown.to_json_bytes(),
        b"p-schema": invalid.to_json_bytes(),
    }
    for key, value in poison.items():
        await led.producer.send_raw(led.topics.designations, value, key=key)
    await led.producer.send([good])
    await led.wait_caught_up()

    assert [e["event_id"] for e in await _history(led, s.subject_id)] == [str(good.id)]
    dead = await eventually(
        lambda: read_topic(led.infra, led.topics.deadletter),
        lambda rs: {r.key for r in rs} >= set(poison),
    )
    by_key = {r.key: r for r in dead if r.key in poison}
    for key, record in by_key.items():
        headers = {k: v.decode() for k, v in record.headers}
        assert record.value == poison[key]
        assert headers["jsb-consumer"] == "ledger.ingest"
        assert headers["jsb-source-topic"] == led.topics.designations
        assert int(headers["jsb-source-offset"]) >= 0
        assert headers["jsb-source-partition"].isdigit()
        assert headers["jsb-reason"]
    reasons = {k: dict(r.headers)["jsb-reason"].decode() for k, r in by_key.items()}
    assert "envelope" in reasons[b"p-json"]
    assert "teleported" in reasons[b"p-type"]
    assert "invalid jsb.designation.issued" in reasons[b"p-schema"]
    assert "NUL" in reasons[b"p-nul"]
    assert len([r for r in dead if r.key in poison]) == len(poison)  # once each, not again
    assert await led.count(tables.events) >= 1
