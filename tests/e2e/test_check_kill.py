"""A recorded block is never lost (issue 11): the responder is SIGKILLed while checks
stream in (group commits in flight), then restarted. Every check that was answered is
in the responder's `checks` once, and every answered block's interception reaches the
ledger exactly once — none lost, none repeated (see services/responder/check_journal.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any

import asyncpg
import httpx
import pytest

from services.responder.bootstrap import asyncpg_dsn
from tests.support.poll import until
from tests.support.responder_flows import designate, history, wait_decision
from tests.support.stack import Stack
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.e2e

TAX = "tax.major-violation"
PROCUREMENT = "procurement.restrict_government_procurement"
WORKERS = 12


def _load(
    stack: Stack, subjects: list[str], answered: list[dict[str, Any]], stop: threading.Event
) -> None:
    with stack.client("responder", as_="mof") as mof:
        n = 0
        while not stop.is_set():
            subject = subjects[n % len(subjects)]
            n += 1
            try:
                r = mof.post("/v1/checks", json={"subject_id": subject, "measure": PROCUREMENT})
            except httpx.HTTPError:
                continue  # killed mid-request: not answered
            if r.status_code == 200:
                answered.append({**r.json(), "subject": subject})


async def _recorded(stack: Stack, check_ids: list[str]) -> Counter[str]:
    conn = await asyncpg.connect(
        asyncpg_dsn(stack.infra.database_url),
        server_settings={"search_path": "responder" + stack.schema_suffix},
    )
    try:
        rows = await conn.fetch(
            "SELECT check_id::text AS id FROM checks WHERE check_id = ANY($1::uuid[])", check_ids
        )
    finally:
        await conn.close()
    return Counter(r["id"] for r in rows)


def test_a_responder_killed_under_check_load_keeps_every_answered_block_once(
    stack: Stack,
) -> None:
    listed = [new_uscc(), new_uscc()]
    for subject in listed:
        designate(stack, subject, TAX)
    for subject in listed:
        wait_decision(stack, "mof", subject, "block", measure=PROCUREMENT)
    subjects = [listed[0], new_uscc(), listed[1], new_uscc()]  # half blocks, half allows

    answered: list[dict[str, Any]] = []
    stop = threading.Event()
    workers = [
        threading.Thread(target=_load, args=(stack, subjects, answered, stop))
        for _ in range(WORKERS)
    ]
    for w in workers:
        w.start()
    try:
        until(lambda: len(answered), lambda n: n >= 400, timeout_s=60, every_s=0.05)
        stack.services["responder"].kill()
        time.sleep(0.5)
    finally:
        stop.set()
        for w in workers:
            w.join()
        stack.services["responder"].start()

    blocks = [a for a in answered if a["decision"] == "block"]
    assert blocks
    assert len(blocks) < len(answered)
    recorded = asyncio.run(_recorded(stack, [a["check_id"] for a in answered]))
    assert {a["check_id"] for a in answered} == set(recorded)
    assert set(recorded.values()) == {1}

    wanted = Counter(
        (a["check_id"], r["designation_id"], r["measure"]) for a in blocks for r in a["reasons"]
    )

    def reported() -> Counter[tuple[str, str, str]]:
        found: Counter[tuple[str, str, str]] = Counter()
        for subject in listed:
            for e in history(stack, subject):
                if e["type"] == "jsb.feedback.intercepted":
                    d = e["event"]["data"]
                    found[(d["check_id"], d["designation_id"], d["measure"])] += 1
        return found

    found = until(reported, lambda f: set(wanted) <= set(f), timeout_s=90, every_s=1.0)
    assert all(found[key] == 1 for key in wanted), [k for k in wanted if found[k] != 1]
