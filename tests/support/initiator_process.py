"""A private initiator process beside the session's stack: same topics and ledger,
its own settings (a dead LEDGER_URL, an unreachable broker, a short timer poll) and
a fresh schema of its own (its state knows nothing the stack's initiator decided,
and its outbox is published by nobody else)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.adapters.migrations import upgrade
from tests.support.infra import unique
from tests.support.stack import ServiceProcess, Stack, free_port


@contextmanager
def fresh_initiator_schema(stack: Stack) -> Iterator[str]:
    schema = f"initiator_{unique('own')}"
    upgrade("initiator", url=stack.infra.admin_url, schema=schema, role=stack.infra.service_role)
    try:
        yield schema
    finally:

        async def drop() -> None:
            engine = create_async_engine(stack.infra.admin_url)
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()

        asyncio.run(drop())


def initiator_process(stack: Stack, workdir: Path, schema: str, **env: str) -> ServiceProcess:
    """Not started yet; `env` overrides the stack initiator's environment."""
    proc_env = {**stack.services["initiator"].env, "JSB_INITIATOR_DB_SCHEMA": schema, **env}
    return ServiceProcess("initiator", free_port(), proc_env, workdir / f"initiator-{schema}.log")


def start_alive(proc: ServiceProcess, timeout_s: float = 60) -> None:
    """Start and wait for /healthz only (/readyz fails on purpose when the broker is away)."""
    proc.start(wait=False)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.proc is not None
        if proc.proc.poll() is not None:
            raise RuntimeError(f"initiator exited: {proc.tail()}")
        try:
            if httpx.get(proc.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"initiator not up: {proc.tail()}")


@contextmanager
def private_initiator(
    stack: Stack, workdir: Path, schema: str, *, ready: bool = True, **env: str
) -> Iterator[ServiceProcess]:
    proc = initiator_process(stack, workdir, schema, **env)
    try:
        if ready:
            proc.start()
        else:
            start_alive(proc)
        yield proc
    finally:
        proc.stop()


def client(proc: ServiceProcess, stack: Stack, as_: str) -> httpx.Client:
    return httpx.Client(
        base_url=proc.url, headers={"Authorization": f"Bearer {stack.tokens[as_]}"}, timeout=30
    )
