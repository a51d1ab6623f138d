"""`jsb demo`'s I/O: publish the history onto the designations topic as the
initiator's relay would, then act today through the public HTTP APIs as departments
would (designate, answer manual inboxes, check), waiting on the ledger and the
responder in between."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
from rich.progress import Progress

from shared.adapters.kafka_clients import make_producer
from shared.cli.demo_history import History, new_uscc
from shared.domain.envelope import Envelope


async def publish(
    envelopes: list[Envelope], bootstrap: str, topic: str, progress: Progress
) -> None:
    task = progress.add_task("history → Kafka", total=len(envelopes))
    producer = make_producer(bootstrap, "jsb-demo")
    await producer.start()
    try:
        for chunk in range(0, len(envelopes), 500):
            batch = envelopes[chunk : chunk + 500]
            sent = [
                await producer.send(topic, value=e.to_json_bytes(), key=e.subject.encode())
                for e in batch
            ]
            await asyncio.gather(*sent)
            progress.advance(task, len(batch))
    finally:
        await producer.stop()


@dataclass
class Stack:
    initiator: str
    responder: str
    ledger: str
    tokens: dict[str, str]

    def client(self, base: str, as_: str) -> httpx.Client:
        return httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {self.tokens[as_]}"}, timeout=60
        )


def designate_today(stack: Stack, n: int, rng: random.Random) -> list[str]:
    """`n` designations through the initiator's API, as the tax administration."""
    ids = []
    with stack.client(stack.initiator, "tax") as c:
        for i in range(n):
            body = {
                "subject": {"id": new_uscc(rng), "name": f"某今日贸易有限公司{i}"},
                "list_type": "tax.major-violation",
                "level": "especially_serious",
                "reason": "虚开增值税专用发票",
                "decision_no": f"税稽罚〔2026〕演{i + 1}号",
                "decided_at": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
                "legal_basis": [
                    {"title": "重大税收违法失信主体信息公布管理办法", "article": "第六条"}
                ],
            }
            r = c.post("/v1/designations", json=body, headers={"Idempotency-Key": uuid4().hex})
            r.raise_for_status()
            ids.append(r.json()["designation_id"])
    return ids


def wait_for_ledger(stack: Stack, expected: int, progress: Progress, timeout_s: float) -> int:
    """Until the ledger holds `expected` designations (or the time is up)."""
    task = progress.add_task("ledger ingest (designations)", total=expected)
    deadline = time.monotonic() + timeout_s
    seen = 0
    with stack.client(stack.ledger, "ops") as c:
        while time.monotonic() < deadline:
            seen = c.get("/v1/stats/overview").json()["designations"]["total"]
            progress.update(task, completed=min(seen, expected))
            if seen >= expected:
                break
            time.sleep(1)
    return int(seen)


def responder_consumed(stack: Stack) -> float:
    """Records the responder's ingest has applied (`jsb_consumed_records_total`)."""
    text = httpx.get(stack.responder + "/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith('jsb_consumed_records_total{consumer="responder.ingest"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def wait_for_inboxes(
    stack: Stack,
    consumed: float,
    departments: list[str],
    progress: Progress,
    timeout_s: float,
) -> None:
    """Until the responder's ingest has applied `consumed` records and its lanes have
    filled the manual inboxes (they hold tasks and stop growing)."""
    task = progress.add_task("responder ingest", total=consumed)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = responder_consumed(stack)
        progress.update(task, completed=min(done, consumed))
        if done >= consumed:
            break
        time.sleep(1)
    last, steady = -1, 0
    while time.monotonic() < deadline and steady < 2:
        total = 0
        for dept in departments:
            with stack.client(stack.responder, dept) as c:
                r = c.get("/v1/tasks", params={"state": "pending", "limit": 1000})
                total += len(r.json()["tasks"]) if r.status_code == 200 else 0
        steady = steady + 1 if total == last and (total or not departments) else 0
        last = total
        time.sleep(1)


def answer_inboxes(
    stack: Stack, departments: list[str], leave: set[str], progress: Progress, rng: random.Random
) -> dict[str, int]:
    """Every department but `leave` answers its manual inbox (a few: not applicable)."""
    answered: dict[str, int] = {}
    task = progress.add_task("manual inboxes answered", total=None)
    for dept in departments:
        if dept in leave:
            continue
        with stack.client(stack.responder, dept) as c:
            while True:
                r = c.get("/v1/tasks", params={"state": "pending", "limit": 500})
                if r.status_code != 200 or not r.json()["tasks"]:
                    break
                for t in r.json()["tasks"]:
                    outcome = "not_applicable" if rng.random() < 0.1 else "executed"
                    c.post(
                        f"/v1/tasks/{t['task_id']}/feedback",
                        json={"outcome": outcome, "note": "演示：已处理"},
                        headers={"Idempotency-Key": uuid4().hex},
                    )
                    answered[dept] = answered.get(dept, 0) + 1
                    progress.advance(task)
    progress.update(task, total=sum(answered.values()))
    return answered


def intercept(
    stack: Stack,
    history: History,
    n: int,
    manual: set[str],
    progress: Progress,
    rng: random.Random,
    timeout_s: float = 60,
) -> int:
    """Checks by implementing departments on subjects in force: the blocks are
    interceptions, reported to the ledger as feedback."""
    now = datetime.now(UTC)
    candidates = []
    for subject, designation_id, _ in history.issued:
        record = history.states[subject].designation(designation_id)
        if record is None or record.data.list_type == "tax.a-grade":
            continue
        tasks = [t for t in record.data.tasks if t.measure not in manual]
        if tasks and history.states[subject].joint_sanctions_in_force(now):
            candidates.append((subject, tasks))
    rng.shuffle(candidates)
    blocked = 0
    task = progress.add_task("checks (interceptions)", total=min(n, len(candidates)))
    deadline = time.monotonic() + timeout_s
    remaining = [(subject, rng.choice(tasks)) for subject, tasks in candidates[:n]]
    while remaining:
        allowed, before = [], blocked
        for subject, pick in remaining:
            with stack.client(stack.responder, pick.department) as c:
                r = c.post(
                    "/v1/checks",
                    json={"subject_id": subject, "measure": pick.measure},
                    headers={"Idempotency-Key": uuid4().hex},
                )
            if r.status_code in (200, 201) and r.json().get("decision") == "block":
                blocked += 1
                progress.advance(task)
            else:
                allowed.append((subject, pick))
        # the departments' lanes may not have applied every measure yet: ask again
        # while that still turns allows into blocks; then an allow is an allow
        if (blocked and blocked == before) or time.monotonic() > deadline:
            break
        remaining = allowed
        time.sleep(1)
    progress.update(task, completed=min(n, len(candidates)))
    return blocked
