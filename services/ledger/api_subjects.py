"""Subjects: status at any instant (as_of / known_at), history, chain verification."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

from services.ledger import store
from services.ledger.access import concerns, designators_in, shown, shown_json, status_json
from services.ledger.lookup import resolve_subject, resolve_subject_head
from services.ledger.ports import EventStore
from services.ledger.replay import fold_recorded, recorded_events
from services.ledger.snapshots import Snapshots, state_at
from services.ledger.verify import verify_chain
from shared.domain.envelope import utc_now
from shared.domain.status_view import render_status
from shared.web.auth import Principal
from shared.web.deps import CurrentPrincipal, EngineDep

router = APIRouter(tags=["subjects"])


def _event_store(request: Request) -> EventStore:
    events: EventStore = request.app.state.event_store
    return events


EventStoreDep = Annotated[EventStore, Depends(_event_store)]
"""The ledger's event store, as wired in bootstrap.py."""


def _snapshots(request: Request) -> Snapshots | None:
    snapshots: Snapshots | None = getattr(request.app.state, "snapshots", None)
    return snapshots


SnapshotsDep = Annotated[Snapshots | None, Depends(_snapshots)]
"""Fold snapshots of long streams (snapshots.py), as wired in bootstrap.py."""

AsOf = Annotated[
    AwareDatetime | None,
    Query(description="What was in force at this instant (effective time). Default: now."),
]
KnownAt = Annotated[
    AwareDatetime | None,
    Query(description="As the ledger knew it at this instant (recorded time). Default: now."),
]


def public_event(e: store.StoredEvent) -> dict[str, Any]:
    return {
        "position": e.position,
        "event_id": str(e.event_id),
        "stream": e.stream,
        "stream_version": e.stream_version,
        "type": e.type,
        "schema_version": e.schema_version,
        "effective_at": e.effective_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "source": e.source.__dict__ if e.source else None,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "event": e.payload,
    }


class JSONBytes(Response):
    """An answer already serialised (and masked) as JSON."""

    media_type = "application/json"


@router.get("/subjects/{subject_id}/status", response_model=None)
async def subject_status(
    subject_id: str,
    principal: CurrentPrincipal,
    engine: EngineDep,
    event_store: EventStoreDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    snapshots: SnapshotsDep = None,
) -> JSONBytes:
    """The subject's status at `as_of`, as known at `known_at`; any identifier works."""
    now = utc_now()
    async with engine.connect() as conn:
        subject, head = await resolve_subject_head(conn, subject_id)
    as_of, known_at = as_of or now, known_at or now
    state = await state_at(event_store, subject, as_of, known_at, snapshots, head)
    memo = snapshots.memo(subject) if snapshots is not None else None
    return JSONBytes(status_json(principal, render_status(state, as_of, known_at, memo)))


MAX_PAGE = 5000

AfterVersion = Annotated[
    int, Query(ge=0, description="Only events after this stream version (paging).")
]
Limit = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_PAGE,
        description="At most this many events; continue with `after_version` = "
        "`next_after_version` (or follow `links.next`). Default: every event.",
    ),
]


@router.get("/subjects/{subject_id}/history", response_model=None)
async def history(
    subject_id: str,
    principal: CurrentPrincipal,
    engine: EngineDep,
    event_store: EventStoreDep,
    after_version: AfterVersion = 0,
    limit: Limit = None,
) -> JSONBytes:
    """The subject's events in order, with positions, times and hashes: every one by
    default, or a page of `limit` after `after_version`.

    Why paging: the answer for a subject with 10,000 events is ~10 MB, and reading,
    masking and sending it cost seconds (docs/benchmarks.md, Ledger); a page costs
    what its events cost. A department sees only the events that concern it, which
    takes the whole stream's fold to know: its pages are cut from those."""
    async with engine.connect() as conn:
        subject = await resolve_subject(conn, subject_id)
    if principal.department is None:
        events = await event_store.stream(subject, after_version, limit)
        designators = designators_in(e.payload for e in events)
    else:
        everything = await event_store.stream(subject)
        concerning = _concerning(principal, subject, everything)
        designators = designators_in(e.payload for e in concerning)
        events = [e for e in concerning if e.stream_version > after_version][:limit]
    more = limit is not None and len(events) == limit
    next_after = events[-1].stream_version if more else None
    doc = {
        "subject_id": subject,
        "events": [public_event(e) for e in events],
        "after_version": after_version,
        "limit": limit,
        "next_after_version": next_after,
        "links": {"next": _next_link(next_after, limit)},
    }
    return JSONBytes(shown_json(principal, doc, designators))


def _next_link(next_after: int | None, limit: int | None) -> str | None:
    """A reference relative to the request's own URL (RFC 3986 §4.2: the query alone):
    it repeats no identifier, so it needs no masking."""
    if next_after is None:
        return None
    return "?" + urlencode({"after_version": next_after, "limit": limit})


@router.get("/subjects/{subject_id}/history/verify")
async def verify(
    subject_id: str, principal: CurrentPrincipal, engine: EngineDep, event_store: EventStoreDep
) -> dict[str, Any]:
    """Recompute the subject's hash chain; name the first broken link, if any."""
    async with engine.connect() as conn:
        subject = await resolve_subject(conn, subject_id)
    events = await event_store.stream(subject)
    result: dict[str, Any] = shown(principal, verify_chain(subject, events).public())
    result["verified_at"] = utc_now().isoformat()
    return result


def _concerning(
    principal: Principal, subject: str, events: list[store.StoredEvent]
) -> list[store.StoredEvent]:
    """The events of designations that concern the department, and its own feedback."""
    department = principal.department
    assert department is not None
    state = fold_recorded(recorded_events(events), subject)
    ours = {
        str(r.designation_id)
        for r in state.designations.values()
        if concerns(department, r.data.designated_by, (t.department for t in r.data.tasks))
    }
    return [
        e
        for e in events
        if str(e.payload.get("data", {}).get("designation_id")) in ours
        or e.payload.get("data", {}).get("department") == department
    ]
