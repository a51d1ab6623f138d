"""One subject with a long history for the ledger bench: tax designations one day
apart, each with every task's feedback, and the reads a caller makes of it (history,
status as of an instant) through the ledger's own route functions (api_subjects.py),
without the HTTP layer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger import api_subjects, tables
from services.ledger.snapshots import Snapshots
from services.ledger.store import PostgresEventStore
from shared.domain.envelope import Envelope
from shared.web.auth import Principal
from tests.support.ledger_events import Script, feedback
from tests.support.subjects import new_uscc

OPS = Principal("ops", frozenset({"ops"}))
"""Sees every event, identity numbers masked (the masking walks every answer)."""


def one_subject(events: int, start: datetime | None = None) -> list[Envelope]:
    """`events` events of one company, in order: designations a day apart, each
    followed by its tasks' feedback an hour later."""
    script = Script(new_uscc())
    at = start or datetime(2020, 1, 1, 2, tzinfo=UTC)
    out: list[Envelope] = []
    n = 0
    while len(out) < events:
        issued = script.issue(at=at + timedelta(days=n), decision_no=f"税〔2020〕{n}号")
        out += [issued, *feedback(issued)]
        n += 1
    return out[:events]


PAGE = 100
"""Events per history page the bench reads (api_subjects.history's `limit`)."""


async def subject_reads(
    engine: AsyncEngine,
    subject: str,
    as_of: datetime,
    snapshots: Snapshots,
    page: int | None = PAGE,
) -> int:
    """History (its first page of `page` events, or all of it with None) plus the
    status as of `as_of`, as the routes answer them (with the service's fold
    snapshots), serialised and masked as the routes answer; returns the bytes."""
    event_store = PostgresEventStore(engine, tables.events)
    history = await api_subjects.history(subject, OPS, engine, event_store, 0, page)
    status = await api_subjects.subject_status(
        subject, OPS, engine, event_store, as_of, None, snapshots
    )
    return len(history.body) + len(status.body)
