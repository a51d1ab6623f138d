"""`jsb_tasks_overdue{department}`: the overdue feedback per implementing department,
refreshed from the projection (the query of GET /v1/stats/departments) every
`interval_s`, so Prometheus can alert on a department that stops reporting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger import stats
from shared.domain.envelope import utc_now

log = logging.getLogger(__name__)


def refresher(
    engine: AsyncEngine, gauge: Gauge, interval_s: float = 15.0
) -> Callable[[asyncio.Event], Awaitable[None]]:
    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with engine.connect() as conn:
                    rows = await stats.departments(conn, utc_now(), None)
                for row in rows:
                    gauge.labels(row["department"]).set(row["overdue"])
            except Exception as exc:  # a metric, not a duty: try again next round
                log.warning("overdue gauge not refreshed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    return run
