"""The batch and the locks on the real Postgres: a keyed batch retried after a crash
between its chunks designates nobody twice; concurrent commands and batches on the
same subjects neither deadlock nor lose an event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.initiator import batch, handlers
from services.initiator.repository import PostgresSubjectStreams
from tests.support import initiator_bodies as bodies
from tests.support.infra import Infra
from tests.support.initiator_app import running_initiator, settings_for
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.integration


async def test_keyed_batch_retried_after_a_crash_between_chunks(
    infra: Infra, topic_suffix: str, schema_suffix: str, tmp_path: Path
) -> None:
    settings = settings_for(infra, topic_suffix, schema_suffix, tmp_path, batch_chunk_size=3)
    items = [bodies.court_debtor(i) for i in range(7)]
    items[4]["level"] = "extreme"
    async with running_initiator(settings) as run, run.client("court") as court:
        # The first attempt committed its first chunk, then the process died.
        parsed = batch.parse(
            items, "court", datetime.now(UTC), run.app.state.catalogue, principal="court", key="K"
        )
        ctx = handlers.CommandContext(run.app.state.catalogue, settings.topic_suffix)
        async with run.engine.begin() as conn:
            first = await batch.decide_chunk(
                PostgresSubjectStreams(conn), parsed[:3], ctx, {}, sees_identity_numbers=False
            )
        retried = await court.post(
            "/v1/designations/batch", json={"designations": items}, headers={"Idempotency-Key": "K"}
        )
        assert retried.status_code == 200, retried.text
        doc = retried.json()
        assert (doc["accepted"], doc["rejected"]) == (6, 1)
        assert [r["designation_id"] for r in doc["results"][:3]] == [
            r["designation_id"] for r in first
        ]
        [[events]] = await run.rows("SELECT count(*) FROM lifecycle_events")
        [[outbox]] = await run.rows("SELECT count(*) FROM outbox")
        assert events == outbox == 6
        again = await court.post(
            "/v1/designations/batch", json={"designations": items}, headers={"Idempotency-Key": "K"}
        )
        assert again.json() == doc  # the stored answer


async def test_concurrent_commands_and_batches_on_shared_subjects(
    infra: Infra, topic_suffix: str, schema_suffix: str, tmp_path: Path
) -> None:
    """Organisations with related persons, the same subjects in several batches (in
    different orders) and single commands, all at once: every one is decided, the
    streams have no gaps, no transaction deadlocks."""
    settings = settings_for(infra, topic_suffix, schema_suffix, tmp_path, batch_chunk_size=4)
    orgs = [new_uscc() for _ in range(4)]
    persons = [new_resident_id() for _ in range(4)]

    def org_item(i: int) -> dict[str, object]:
        return bodies.designation(
            orgs[i % 4],
            related_persons=[
                {"id": persons[(i + k) % 4], "name": f"P{k}", "role": role}
                for k, role in enumerate(("legal_representative", "principal"))
            ],
        )

    def person_item(i: int) -> dict[str, object]:
        return bodies.designation(persons[i % 4], decision_no=f"P-{i}")

    mixed = [org_item(i) if i % 2 else person_item(i) for i in range(12)]
    async with running_initiator(settings) as run, run.client("tax") as tax:
        calls = [
            tax.post("/v1/designations/batch", json={"designations": mixed}),
            tax.post("/v1/designations/batch", json={"designations": mixed[::-1]}),
            *(tax.post("/v1/designations", json=org_item(i)) for i in range(4)),
            *(tax.post("/v1/designations", json=person_item(i)) for i in range(4)),
        ]
        answers = await asyncio.gather(*calls)
        for a in answers[:2]:
            assert a.status_code == 200, a.text
            assert a.json()["rejected"] == 0, a.json()
        for a in answers[2:]:
            assert a.status_code == 201, a.text
        rows = await run.rows(
            "SELECT subject_id, array_agg(stream_version ORDER BY stream_version) AS v"
            " FROM lifecycle_events GROUP BY subject_id"
        )
        for row in rows:
            assert row.v == list(range(1, len(row.v) + 1))
        # 2 batches × (6 orgs with 2 persons + 6 persons) + 4 orgs × 3 + 4 persons
        [[total]] = await run.rows("SELECT count(*) FROM lifecycle_events")
        assert total == 2 * (6 * 3 + 6) + 4 * 3 + 4
