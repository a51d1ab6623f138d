"""`GET /v1/stream`: status changes as server-sent events.

Each event's `id` is its status-log position; a client that reconnects with
`Last-Event-ID` (or `?after=`) gets every change after it — the log keeps them all,
so there is no gap between what it saw and what comes next. Heartbeat comments keep
idle connections open through proxies. Filters as for subscriptions, plus
`subject_id`. Identity numbers masked except for auditors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Request
from sse_starlette.sse import EventSourceResponse

from services.notifier.filters import Filters, passes
from services.notifier.ports import WebhookStore
from services.notifier.settings import NotifierSettings
from shared.domain.identifiers import mask_personal_numbers
from shared.web.deps import CurrentPrincipal
from shared.web.limits import MAX_ROW_ID

router = APIRouter(prefix="/v1", tags=["stream"])


@router.get("/stream")
async def stream(
    request: Request,
    principal: CurrentPrincipal,
    list_types: list[str] | None = Query(None),
    polarity: Literal["sanction", "incentive"] | None = None,
    departments: list[str] | None = Query(None),
    subject_kind: Literal["organization", "person"] | None = None,
    event_types: list[str] | None = Query(None),
    subject_id: str | None = None,
    after: int | None = Query(None, ge=0, le=MAX_ROW_ID, description="start after this position"),
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
) -> EventSourceResponse:
    """Server-sent events of status changes; resumable with Last-Event-ID."""
    settings: NotifierSettings = request.app.state.settings
    store: WebhookStore = request.app.state.webhooks
    filters = Filters(
        list_types=list_types,
        polarity=polarity,
        departments=departments,
        subject_kind=subject_kind,
        event_types=event_types,
        subject_id=subject_id.strip().upper() if subject_id else None,
    )
    start = _start(last_event_id, after)
    if start is None:
        async with store.begin() as tx:
            start = await tx.status_log.head()
    clear = principal.sees_identity_numbers

    async def events() -> AsyncIterator[dict[str, Any]]:
        cursor = start
        while True:
            async with store.begin() as tx:
                rows = await tx.status_log.after(cursor, 500)
            for r in rows:
                cursor = r.position
                if not passes(filters, r.facets, r.subject_id):
                    continue
                body: Any = json.loads(r.body)
                if not clear:
                    body = mask_personal_numbers(body)
                yield {
                    "id": str(r.position),
                    "event": "jsb.status.changed",
                    "data": json.dumps(body, ensure_ascii=False),
                }
            if not rows:
                await asyncio.sleep(settings.stream_poll_s)

    return EventSourceResponse(events(), ping=int(max(1, settings.stream_heartbeat_s)))


def _start(last_event_id: str | None, after: int | None) -> int | None:
    if last_event_id and last_event_id.strip().isdigit():
        return int(last_event_id.strip())
    return after
