"""The in-process copy of the restriction index on the real Postgres: kept current by
what each committed ingest batch wrote (designation, suspension on an objection,
revocation), right by the clock alone (expiry), and equal to a copy loaded afresh from
the table (a restart)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from services.responder import index_store
from services.responder.live_index import LiveIndex, follow, load
from services.responder.pg_store import INGEST_LOCK
from shared.adapters.db import make_engine
from shared.domain.commands import FileObjection, RevokeDesignation
from shared.domain.envelope import Envelope
from shared.domain.events import RaisedBy
from shared.domain.identifiers import org_code_of_uscc
from tests.support.infra import Infra, unique
from tests.support.responder_harness import Harness, hosting, issue_command, run
from tests.support.subjects import new_uscc
from tests.unit.domain_fixtures import Subject

pytestmark = pytest.mark.integration

TAX = "tax.major-violation"
PROCUREMENT = "procurement.restrict_government_procurement"
MOF = "mof"


@pytest.fixture
async def harness(infra: Infra, schema_suffix: str) -> AsyncIterator[Harness]:
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    h = Harness(engine, hosting(departments=MOF), "." + unique())
    await h.ensure()
    yield h
    await engine.dispose()


@pytest.fixture
async def conn(infra: Infra, schema_suffix: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    dsn = infra.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    c = await asyncpg.connect(dsn, server_settings={"search_path": "responder" + schema_suffix})
    yield c
    await c.close()


async def _feed(harness: Harness, live: LiveIndex, envelopes: list[Envelope]) -> None:
    """One ingest batch, then (committed) what it wrote applied to the copy."""
    await harness.feed(envelopes)
    live.apply(harness.ingest.take_written())


async def _answers(
    conn: asyncpg.Connection[Any], live: LiveIndex, identifier: str, at: datetime
) -> tuple[list[Any], list[Any]]:
    """(the copy's reasons, the table's reasons) for the same check."""
    rows = await index_store.lookup(conn, identifier, MOF, [PROCUREMENT], at)
    table = [(r["designation_id"], r["measure"]) for r in rows if r["designation_id"]]
    found = live.lookup(identifier, MOF, {PROCUREMENT}, at.timestamp())
    return [(d, m) for _, d, _, m in found.reasons], table


async def test_the_copy_follows_the_ingest_and_equals_a_fresh_load(
    harness: Harness, conn: asyncpg.Connection[Any]
) -> None:
    live = await load(conn, frozenset({MOF}), INGEST_LOCK)
    assert live.loaded
    subject = Subject(new_uscc())
    issued = run(subject, issue_command(subject.subject_id, TAX, "tax"))
    did = UUID(issued[0].data["designation_id"])
    await _feed(harness, live, issued)
    now = datetime.now(UTC)
    # by the subject's id and by the organisation code in its USCC
    for identifier in (subject.subject_id, org_code_of_uscc(subject.subject_id)):
        copy, table = await _answers(conn, live, identifier, now)
        assert copy == table == [(did, PROCUREMENT)]
    # by the clock alone: past the designation's period, nothing blocks (no event)
    until = subject.state.designation(did).data.effective_until  # type: ignore[union-attr]
    assert until is not None
    copy, table = await _answers(conn, live, subject.subject_id, until + timedelta(seconds=1))
    assert copy == table == []

    # an objection on a suspending regime suspends the measures
    await _feed(
        harness,
        live,
        run(
            subject,
            FileObjection(
                designation_id=did,
                raised_by=RaisedBy.SUBJECT,
                grounds="paid",
                department="tax",
                at=datetime.now(UTC),
            ),
        ),
    )
    copy, table = await _answers(conn, live, subject.subject_id, datetime.now(UTC))
    assert copy == table == []

    other = Subject(new_uscc())
    envelopes = run(other, issue_command(other.subject_id, TAX, "tax"))
    other_did = UUID(envelopes[0].data["designation_id"])
    await _feed(harness, live, envelopes)
    copy, _ = await _answers(conn, live, other.subject_id, datetime.now(UTC))
    assert copy == [(other_did, PROCUREMENT)]
    # revoked: nothing blocks any more
    await _feed(
        harness,
        live,
        run(
            other,
            RevokeDesignation(
                designation_id=other_did, reason="wrong", department="tax", at=datetime.now(UTC)
            ),
        ),
    )
    copy, table = await _answers(conn, live, other.subject_id, datetime.now(UTC))
    assert copy == table == []

    # a restart: the copy loaded afresh from the table answers as the one kept current
    fresh = await load(conn, frozenset({MOF}), INGEST_LOCK)
    assert len(fresh) == len(live)
    later = datetime.now(UTC)
    for s in (subject, other):
        for at in (later, until + timedelta(seconds=1)):
            assert fresh.lookup(s.subject_id, MOF, {PROCUREMENT}, at.timestamp()) == live.lookup(
                s.subject_id, MOF, {PROCUREMENT}, at.timestamp()
            )


async def test_a_copy_follows_what_another_instance_indexed(
    harness: Harness, conn: asyncpg.Connection[Any]
) -> None:
    """Two instances: `mine` loaded before the other's ingest committed anything; the
    other instance's designation, then revocation, reach it through `follow`."""
    mine = await load(conn, frozenset({MOF}), INGEST_LOCK)
    other = LiveIndex(frozenset({MOF}))  # the other instance's own copy (unused here)
    subject = Subject(new_uscc())
    envelopes = run(subject, issue_command(subject.subject_id, TAX, "tax"))
    did = UUID(envelopes[0].data["designation_id"])
    await _feed(harness, other, envelopes)  # ingested by the other instance
    code = org_code_of_uscc(subject.subject_id)
    assert mine.lookup(code, MOF, {PROCUREMENT}, datetime.now(UTC).timestamp()).reasons == []
    assert await follow(conn, mine, INGEST_LOCK) == 1
    found = mine.lookup(code, MOF, {PROCUREMENT}, datetime.now(UTC).timestamp())
    assert [(d, m) for _, d, _, m in found.reasons] == [(did, PROCUREMENT)]
    assert found.subject_ids == [subject.subject_id]
    assert await follow(conn, mine, INGEST_LOCK) == 0  # nothing new: nothing re-read
    await _feed(
        harness,
        other,
        run(
            subject,
            RevokeDesignation(
                designation_id=did, reason="wrong", department="tax", at=datetime.now(UTC)
            ),
        ),
    )
    assert await follow(conn, mine, INGEST_LOCK) == 1
    assert mine.lookup(code, MOF, {PROCUREMENT}, datetime.now(UTC).timestamp()).reasons == []
