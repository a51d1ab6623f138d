"""bench/machine_cpu.py counts the CPU of the backends whose `application_name` names
one of the run's schemas, those that exit during the run included, and no other
session's; the services' connections carry that name (shared/adapters/db.py)."""

from __future__ import annotations

import asyncio
import os
import socket
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy import text

from bench import pipeline
from bench.machine_cpu import MachineCpu, listening_pid
from shared.adapters.db import make_engine
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

BUSY = "SELECT count(*) FROM generate_series(1, 3000000)"
"""A few hundred ms of one backend's CPU."""


async def _busy(url: str, application_name: str, *, linger_s: float) -> None:
    conn = await asyncpg.connect(url, server_settings={"application_name": application_name})
    try:
        await conn.fetchval(BUSY)
        await asyncio.sleep(linger_s)  # sampled once more before it exits
    finally:
        await conn.close()


async def test_the_runs_backends_are_counted_and_no_others(infra: Infra) -> None:
    url = pipeline.pg_url(infra.admin_url)
    ours, other = "svc_" + uuid4().hex[:8], "other_" + uuid4().hex[:8]
    with MachineCpu(url, {"svc": ours}, interval_s=0.1) as machine:
        await _busy(url, ours, linger_s=0.5)
        await _busy(url, other, linger_s=0.5)
        staying = await asyncpg.connect(url, server_settings={"application_name": ours})
        await staying.fetchval(BUSY)
        await asyncio.sleep(0.3)
    await staying.close()
    found = machine.result()
    assert found["backends_seen"] == 2
    assert found["backends_gone"] == 1
    assert set(found["postgres_backends_by_service_s"]) == {"svc"}
    # two busy queries of ours; the other session's third is not counted
    assert found["postgres_backends_s"] >= 0.1
    alone = MachineCpu(url, {"svc": ours}, interval_s=0.1)
    with alone:
        await _busy(url, other, linger_s=0.3)
    assert alone.result()["postgres_backends_s"] == 0


async def test_a_services_connections_carry_its_schema_as_application_name(
    infra: Infra,
) -> None:
    engine = make_engine(infra.database_url, schema="responder_x")
    try:
        async with engine.connect() as conn:
            name = (await conn.execute(text("SHOW application_name"))).scalar_one()
    finally:
        await engine.dispose()
    assert name == "responder_x"


def test_the_process_listening_on_a_port_is_found() -> None:
    """How the broker's process is told from other sessions' brokers: by its port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert listening_pid(listener.getsockname()[1]) == os.getpid()
