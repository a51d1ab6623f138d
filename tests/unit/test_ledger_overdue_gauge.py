"""The ledger's timer loop (the overdue gauge, services/ledger/dashboard/overdue_gauge.py)
without Postgres: it sets the gauge from each read, survives a failed read, and stops
when told."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Gauge

from services.ledger.dashboard.overdue_gauge import gauge_loop


async def test_the_gauge_follows_each_read_survives_a_failure_and_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = CollectorRegistry()
    gauge = Gauge("t_overdue", "test", ["department"], registry=registry)
    reads: list[list[dict[str, Any]] | Exception] = [
        [{"department": "tax", "overdue": 3}, {"department": "caac", "overdue": 0}],
        RuntimeError("database away"),
        [{"department": "tax", "overdue": 1}],
    ]
    stop = asyncio.Event()

    async def read() -> list[dict[str, Any]]:
        answer = reads.pop(0)
        if not reads:
            stop.set()
        if isinstance(answer, Exception):
            raise answer
        return answer

    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(gauge_loop(read, gauge, 0.01)(stop), 5)
    assert reads == []  # three rounds, the failed one included
    assert registry.get_sample_value("t_overdue", {"department": "tax"}) == 1
    assert registry.get_sample_value("t_overdue", {"department": "caac"}) == 0
    assert "overdue gauge not refreshed: RuntimeError" in caplog.text


async def test_a_stopped_loop_does_not_read() -> None:
    stop = asyncio.Event()
    stop.set()

    async def read() -> list[dict[str, Any]]:
        raise AssertionError("read after stop")

    gauge = Gauge("t_overdue2", "test", ["department"], registry=CollectorRegistry())
    await gauge_loop(read, gauge, 0.01)(stop)
