"""`jsb_tasks_overdue{department}`: the overdue feedback per implementing department,
refreshed from the projection (the query of GET /v1/stats/departments) every
`interval_s`, so Prometheus can alert on a department that stops reporting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger import stats
from shared.domain.envelope import utc_now

log = logging.getLogger(__name__)

Rows = Callable[[], Awaitable[list[dict[str, Any]]]]
"""Reads one row per department with its `overdue` count."""


def department_rows(engine: AsyncEngine) -> Rows:
    async def read() -> list[dict[str, Any]]:
        async with engine.connect() as conn:
            return await stats.departments(conn, utc_now(), None)

    return read


def refresher(
    engine: AsyncEngine, gauge: Gauge, interval_s: float = 15.0
) -> Callable[[asyncio.Event], Awaitable[None]]:
    return gauge_loop(department_rows(engine), gauge, interval_s)


def gauge_loop(
    read: Rows, gauge: Gauge, interval_s: float
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """The loop: set the gauge from `read` every `interval_s` until `stop` is set; a
    failed read is logged and tried again next round (a metric, not a duty)."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                for row in await read():
                    gauge.labels(row["department"]).set(row["overdue"])
            except Exception as exc:
                log.warning("overdue gauge not refreshed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    return run
