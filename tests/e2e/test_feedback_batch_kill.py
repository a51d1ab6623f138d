"""Exactly-once with batched feedback (issue 11, item 7): the responder is SIGKILLed
while its lanes are writing passes full of `jsb.feedback.measures_reported` events
under a court list, restarted, and every task's report is then found exactly once
in the ledger — counted item by item, whether it came single or in a batch."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator

import asyncpg
import pytest

from bench import pipeline
from tests.support.feedback_items import BATCH, reports
from tests.support.infra import Infra
from tests.support.initiator_stack import own_stack
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

DEBTORS = 60


@pytest.fixture(scope="module")
def kill_stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with own_stack(infra, tmp_path_factory.mktemp("batchkill"), ready_timeout_s=240) as running:
        yield running


async def _responder_feedback_rows(url: str, suffix: str) -> int:
    conn = await asyncpg.connect(pipeline.pg_url(url))
    try:
        n = await conn.fetchval(
            f"select count(*) from responder{suffix}.outbox where topic like 'jsb.feedback%'"
        )
    finally:
        await conn.close()
    return int(n)


async def _ledger_reports(url: str, suffix: str) -> tuple[Counter[tuple[str, ...]], int, int, int]:
    """Per (designation, measure, department, kind): how many reports the ledger holds;
    the feedback events, the batch events among them, and the ledger's tasks."""
    conn = await asyncpg.connect(pipeline.pg_url(url))
    try:
        rows = await conn.fetch(
            f"select type, payload->'data' as data from ledger{suffix}.events "
            "where type like 'jsb.feedback.%'"
        )
        tasks = await conn.fetchval(f"select count(*) from ledger{suffix}.tasks")
    finally:
        await conn.close()
    counts: Counter[tuple[str, ...]] = Counter()
    batches = 0
    for r in rows:
        data = json.loads(r["data"])
        batches += r["type"] == BATCH
        for kind, single in reports(r["type"], data):
            key = (single["designation_id"], single["measure"], single["department"], kind)
            counts[key] += 1
    return counts, len(rows), batches, int(tasks)


def test_a_responder_killed_mid_batched_flush_reports_every_task_once(
    kill_stack: Stack, infra: Infra
) -> None:
    stack = kill_stack
    url, suffix = infra.admin_url, stack.schema_suffix
    bodies = pipeline.court_list(DEBTORS, run=int(time.time()) % 40)
    sender = threading.Thread(
        target=pipeline.send,
        args=(stack.url("initiator"), stack.tokens["court"], bodies),
        kwargs={"chunk": 10, "concurrency": 1},
    )
    sender.start()
    try:
        # Kill once the lanes have committed some passes, while more are being written.
        deadline = time.monotonic() + 120
        while asyncio.run(_responder_feedback_rows(url, suffix)) < 20:
            assert time.monotonic() < deadline, "no feedback from the responder"
            time.sleep(0.05)
        stack.services["responder"].kill()
        at_kill = asyncio.run(_responder_feedback_rows(url, suffix))
    finally:
        sender.join()
    stack.services["responder"].start(wait=False)
    stack.services["responder"].wait_ready(timeout_s=240)  # catching up, on a loaded machine

    done, _ = pipeline.wait_done(url, suffix, timeout_s=600)
    assert done.done, done
    counts, events, batches, tasks = asyncio.run(_ledger_reports(url, suffix))
    assert batches > 0  # the batched path was exercised
    executed = {k for k in counts if k[3] == "executed"}
    assert len(executed) == tasks == done.ledger_tasks
    assert {n for n in counts.values()} == {1}, {k: n for k, n in counts.items() if n != 1}
    # The kill fell in the middle: part of the feedback had been committed, not all.
    assert 0 < at_kill < events, (at_kill, events)
