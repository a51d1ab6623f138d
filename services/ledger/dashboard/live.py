"""The dashboard's live feed: server-sent events of what the ledger appends.

Why poll the event table and not the notifier's stream: the notifier's `/v1/stream`
does not exist yet, and the ledger's own positions are the truth anyway (they become
visible in order: docs/ledger.md, "Global order readers can trust"), so a reader that
follows `position > cursor` never skips an event. One cheap `max(position)` per
second per open page; the events themselves only when the head moved."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.dashboard import queries

HEARTBEAT_S = 15.0
LIFETIME_S = 55.0
"""Why a stream ends after a minute: a stopping server waits for open responses, and a
page left open would hold the ledger's shutdown until it is killed. The page
reconnects at once with `Last-Event-ID`, so nothing is missed."""


def frame(event: str, data: Any, event_id: int | None = None) -> str:
    """One SSE frame (https://html.spec.whatwg.org/multipage/server-sent-events.html)."""
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


async def changes(
    engine: AsyncEngine,
    after: int | None,
    visible: Callable[[dict[str, Any]], dict[str, Any] | None],
    interval_s: float = 1.0,
    batch: int = 200,
    lifetime_s: float = LIFETIME_S,
) -> AsyncIterator[str]:
    """Frames of every event past `after` (None: from the head now), as `visible`
    shows them to the caller (None: not shown); a comment line as heartbeat."""
    async with engine.connect() as conn:
        cursor = await queries.head(conn) if after is None else after
    yield frame("hello", {"head": cursor}, cursor)
    idle = 0.0
    ends = time.monotonic() + lifetime_s
    while time.monotonic() < ends:
        async with engine.connect() as conn:
            rows = (
                await queries.events_after(conn, cursor, batch)
                if await queries.head(conn) > cursor
                else []
            )
        for row in rows:
            cursor = row["position"]
            shown = visible(row)
            if shown is not None:
                yield frame("append", shown, cursor)
        if rows:
            idle = 0.0
            continue
        idle += interval_s
        if idle >= HEARTBEAT_S:
            idle = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(interval_s)
