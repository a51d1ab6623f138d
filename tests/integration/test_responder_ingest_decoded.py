"""The ingest folds the subjects it refreshes with the events it has just decoded
(folds.fold_decoded) instead of decoding their stored copies again: the restriction
index it writes and the fold it gives the departments are those a refresh from the
stored events alone gives, and an event whose id was stored before (a second copy,
here with other content) is never taken for the stored one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.responder.fold_memo import FoldMemo
from services.responder.ingest import Ingest
from services.responder.live_index import IndexChanges
from services.responder.pg_store import postgres_unit
from shared.adapters.db import make_engine
from shared.domain.commands import RevokeDesignation
from shared.domain.envelope import Envelope
from tests.support.infra import Infra, unique
from tests.support.responder_harness import Harness, hosting, issue_command, run
from tests.support.subjects import new_resident_id
from tests.unit.domain_fixtures import Subject

pytestmark = pytest.mark.integration

COURT = "court.dishonest-debtor"


@pytest.fixture
async def harness(infra: Infra, schema_suffix: str) -> AsyncIterator[Harness]:
    engine = make_engine(infra.database_url, schema="responder" + schema_suffix)
    h = Harness(engine, hosting(), "." + unique())
    h.ingest = Ingest(h.hosting, h.suffix, memo=h.ctx.memo)
    await h.ensure()
    yield h
    await engine.dispose()


async def _from_storage(harness: Harness, subject_id: str) -> IndexChanges:
    """What a refresh from the stored events alone gives (rolled back)."""
    async with harness.engine.connect() as conn:
        tx = await conn.begin()
        changes = await postgres_unit(conn).index.refresh({subject_id}, harness.hosting.departments)
        await tx.rollback()
    return changes


def _revoked(subject: Subject, issued: Envelope) -> list[Envelope]:
    revoke = RevokeDesignation(
        designation_id=issued.data["designation_id"],
        reason="paid in full",
        restore_reputation=True,
        department="court",
        at=datetime.now(UTC),
    )
    return run(subject, revoke)


def _same_fold(memo: FoldMemo, stored: IndexChanges, subject_id: str) -> bool:
    """The departments' memo holds the stored events' fold at the last position."""
    position, folded = stored.folds[subject_id]
    return memo.get(subject_id, position) == folded


async def test_the_index_and_the_fold_are_those_of_the_stored_events(harness: Harness) -> None:
    person = Subject(new_resident_id())
    (issued,) = run(person, issue_command(person.subject_id, COURT, "court"))
    for batch in ([issued], _revoked(person, issued)):
        await harness.feed(batch)
        written = harness.ingest.take_written()
        stored = await _from_storage(harness, person.subject_id)
        assert written.rows[person.subject_id] == stored.rows[person.subject_id]
        assert len(stored.rows[person.subject_id]) > 40
        assert _same_fold(harness.ctx.memo, stored, person.subject_id)


async def test_a_second_copy_of_a_stored_id_is_not_folded_for_it(harness: Harness) -> None:
    person = Subject(new_resident_id())
    (issued,) = run(person, issue_command(person.subject_id, COURT, "court"))
    await harness.feed([issued])
    harness.ingest.take_written()
    # The same id with one measure only, in the batch of the subject's next event.
    data = dict(issued.data)
    data["tasks"] = data["tasks"][:1]
    forged = issued.model_copy(update={"data": data})
    await harness.feed([forged, *_revoked(person, issued)])
    written = harness.ingest.take_written()
    stored = await _from_storage(harness, person.subject_id)
    assert len(stored.rows[person.subject_id]) > 40
    assert written.rows[person.subject_id] == stored.rows[person.subject_id]
    assert _same_fold(harness.ctx.memo, stored, person.subject_id)
