"""Idempotency-Key against the real Postgres: a retry returns the first answer and
runs nothing; a different request under the same key is refused; concurrent
retries wait for the first instead of racing it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.initiator import tables
from shared.adapters.db import make_engine
from shared.adapters.idempotency import request_fingerprint, run_once
from shared.domain.errors import IdempotencyKeyReused
from shared.web.problems import problem_of
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(infra: Infra, schema_suffix: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(infra.database_url, schema="initiator" + schema_suffix)
    yield engine
    await engine.dispose()


async def test_a_retry_returns_the_first_answer_and_runs_nothing(engine: AsyncEngine) -> None:
    calls = 0

    async def action(conn: AsyncConnection) -> tuple[int, Any]:
        nonlocal calls
        calls += 1
        return 201, {"n": calls}

    fp = request_fingerprint("POST", "/v1/x", {"a": 1})
    # (The advisory-lock key once joined caller and key with a NUL byte, which
    # Postgres refuses in text: every keyed request failed with a 500.)
    for key in ("k-1", "k/weird:键"):
        first = await run_once(
            engine, tables.idempotency, principal="tax", key=key, fingerprint=fp, action=action
        )
        again = await run_once(
            engine, tables.idempotency, principal="tax", key=key, fingerprint=fp, action=action
        )
        assert first == again
    assert calls == 2
    # The key is the caller's own: another department's same key is a new request.
    other = await run_once(
        engine, tables.idempotency, principal="court", key="k-1", fingerprint=fp, action=action
    )
    assert other == (201, {"n": 3})


async def test_the_same_key_for_another_request_is_refused(engine: AsyncEngine) -> None:
    async def action(conn: AsyncConnection) -> tuple[int, Any]:
        return 201, {}

    await run_once(
        engine,
        tables.idempotency,
        principal="tax",
        key="k",
        fingerprint=request_fingerprint("POST", "/v1/x", 1),
        action=action,
    )
    with pytest.raises(IdempotencyKeyReused) as reused:
        await run_once(
            engine,
            tables.idempotency,
            principal="tax",
            key="k",
            fingerprint=request_fingerprint("POST", "/v1/x", 2),
            action=action,
        )
    refused = problem_of(reused.value)
    assert refused.status == 422
    assert refused.code == "idempotency_key_reused"


async def test_concurrent_retries_run_the_action_once(engine: AsyncEngine) -> None:
    calls = 0

    async def slow(conn: AsyncConnection) -> tuple[int, Any]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)
        return 201, {"n": calls}

    fp = request_fingerprint("POST", "/v1/x", None)
    answers = await asyncio.gather(
        *(
            run_once(
                engine, tables.idempotency, principal="tax", key="race", fingerprint=fp, action=slow
            )
            for _ in range(4)
        )
    )
    assert calls == 1
    assert all(a == (201, {"n": 1}) for a in answers)
