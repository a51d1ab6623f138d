"""The ops dashboard (issue 12): the page at `/dashboard` (a static single-page app,
services/ledger/dashboard/static/, with Apache ECharts served from the project's
node_modules — installed by deploy/scripts/frontend.sh, nothing from the internet),
its numbers under `/v1/stats/…`, a subject's timeline bands and the live feed.
Every `/v1` route takes the same bearer tokens as the rest of the ledger and shows
what the caller may see (services/ledger/access.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from prometheus_client import CollectorRegistry
from starlette.requests import Request

from services.ledger.access import shown, status_for
from services.ledger.api_subjects import EventStoreDep
from services.ledger.dashboard import live, queries
from services.ledger.dashboard.bands import Sample, bands, sample_instants
from services.ledger.lookup import resolve_subject
from services.ledger.replay import fold_recorded, recorded_events, status_at
from shared.adapters.settings import PROJECT_ROOT
from shared.domain.envelope import utc_now
from shared.domain.errors import NotFound
from shared.domain.fold import visible
from shared.domain.status_view import render_status
from shared.web.auth import Principal
from shared.web.deps import CurrentPrincipal, EngineDep
from shared.web.limits import MAX_ROW_ID

STATIC = Path(__file__).parent / "dashboard" / "static"
ASSETS = {
    "app.js": (STATIC / "app.js", "text/javascript"),
    "timeline.js": (STATIC / "timeline.js", "text/javascript"),
    "i18n.js": (STATIC / "i18n.js", "text/javascript"),
    "api.js": (STATIC / "api.js", "text/javascript"),
    "style.css": (STATIC / "style.css", "text/css"),
    "echarts.esm.min.js": (
        PROJECT_ROOT / "node_modules" / "echarts" / "dist" / "echarts.esm.min.js",
        "text/javascript",
    ),
}
"""The only files the page loads, by name (nothing else under these paths is served)."""

page = APIRouter(tags=["dashboard"], include_in_schema=False)
router = APIRouter(prefix="/v1", tags=["dashboard"])

Days = Annotated[int, Query(ge=1, le=366, description="China days up to today")]


@page.get("/dashboard")
async def dashboard_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@page.get("/dashboard/")
async def dashboard_slash() -> RedirectResponse:
    return RedirectResponse("/dashboard")


@page.get("/dashboard/assets/{name}")
async def dashboard_asset(name: str) -> FileResponse:
    found = ASSETS.get(name)
    if found is None or not found[0].exists():
        raise NotFound("asset_not_found", "name", f"no dashboard asset {name} (run `make deps`)")
    return FileResponse(found[0], media_type=found[1], headers={"Cache-Control": "no-cache"})


def _consumer_lag(registry: CollectorRegistry) -> dict[str, float]:
    """The ingest lanes' lag as the consumers last reported it (jsb_consumer_lag)."""
    lag: dict[str, float] = {}
    for metric in registry.collect():
        if metric.name == "jsb_consumer_lag":
            for sample in metric.samples:
                lag[sample.labels.get("consumer", "")] = sample.value
    return lag


@router.get("/stats/tiles")
async def stats_tiles(
    request: Request, principal: CurrentPrincipal, engine: EngineDep
) -> dict[str, Any]:
    """The dashboard's tiles: subjects under sanction, designations in force (by list
    type), objections pending and overdue, interceptions today, tasks overdue; for
    auditor and ops also dead letters and consumer lag."""
    now = utc_now()
    async with engine.connect() as conn:
        doc = await queries.tiles(conn, now, principal.department)
        if principal.department is None:
            doc["dead_letters"] = await queries.dead_letters(conn)
    if principal.department is None:
        lanes = _consumer_lag(request.app.state.metrics)
        doc["consumer_lag"] = int(sum(lanes.values()))
        doc["consumer_lag_by_consumer"] = lanes
    return {"as_of": now.isoformat(), "scope": principal.department or "all", **doc}


@router.get("/stats/designations/daily")
async def stats_designations_daily(
    principal: CurrentPrincipal, engine: EngineDep, days: Days = 30
) -> dict[str, Any]:
    """Designations issued per China day, one series per list type."""
    async with engine.connect() as conn:
        return await queries.designations_per_day(conn, utc_now(), days, principal.department)


@router.get("/stats/interceptions/daily")
async def stats_interceptions_daily(
    principal: CurrentPrincipal, engine: EngineDep, days: Days = 30
) -> dict[str, Any]:
    """Interceptions per China day, one series per measure."""
    async with engine.connect() as conn:
        return await queries.interceptions_per_day(conn, utc_now(), days, principal.department)


@router.get("/stats/departments/{department}/overdue")
async def stats_department_overdue(
    department: str,
    principal: CurrentPrincipal,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The overdue tasks of one implementing department, oldest deadline first."""
    async with engine.connect() as conn:
        rows = await queries.overdue_tasks(conn, utc_now(), department, principal.department, limit)
    doc: dict[str, Any] = shown(principal, {"department": department, "tasks": rows})
    return doc


@router.get("/subjects/{subject_id}/timeline")
async def subject_timeline(
    subject_id: str, principal: CurrentPrincipal, engine: EngineDep, event_store: EventStoreDep
) -> dict[str, Any]:
    """The subject's designations as bands of their states over time (as known now):
    the status rendered at every instant where a state can change (the latest 150)."""
    now = utc_now()
    async with engine.connect() as conn:
        subject = await resolve_subject(conn, subject_id)
    events = await event_store.stream(subject)
    _, latest = status_at(events, subject, now, now)
    edges = [t for d in latest.designations for t in (d.effective_from, d.effective_until)]
    samples: list[Sample] = []
    designations: dict[str, dict[str, Any]] = {}
    recorded = recorded_events(events)  # decoded once, folded per instant
    for at in sample_instants((e.effective_at for e in events), edges, now, cap=150):
        state = fold_recorded((r for r in recorded if visible(r, at, now)), subject)
        doc = status_for(principal, render_status(state, at, now))
        states = {}
        for d in doc["designations"]:
            states[d["designation_id"]] = d["state"]
            designations[d["designation_id"]] = {
                k: d[k] for k in ("designation_id", "list_type", "level", "designated_by")
            }
        samples.append(Sample(at, states))
    result: dict[str, Any] = shown(
        principal,
        {
            "subject_id": subject,
            "as_of": now.isoformat(),
            "designations": list(designations.values()),
            "bands": bands(samples, now),
        },
    )
    return result


def _feed_filter(principal: Principal) -> Any:
    department = principal.department

    def visible(row: dict[str, Any]) -> dict[str, Any] | None:
        if department is not None and department not in (
            row["department"],
            (row["source"] or "").rsplit("/", 1)[-1],
        ):
            return None
        shown_row: dict[str, Any] = shown(principal, row)
        return shown_row

    return visible


@router.get("/stats/stream")
async def stats_stream(
    principal: CurrentPrincipal,
    engine: EngineDep,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ROW_ID, description="Last position seen")
    ] = None,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Server-sent events: `append` for every event the ledger appends after `after`
    (or `Last-Event-ID`; default: from now), as the caller may see it."""
    cursor = after if after is not None else last_event_id
    return StreamingResponse(
        live.changes(engine, cursor, _feed_filter(principal)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
