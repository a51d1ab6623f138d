"""The pipeline benchmark's parts (tests/bench/test_pipeline_bench.py): a court list,
the load through `POST /v1/designations/batch`, and what the stack's own databases
say about its progress.

"Fully executed" is read from the ledger (the end of the pipeline): every designation
the initiator accepted is in the ledger, every one of its tasks is `executed` there
(so every task's feedback was ingested and folded), and the ledger's outbox holds no
unpublished status. Latency per designation: from the end of the HTTP call that
accepted it (its 201 inside the batch's 200) to the ledger's `recorded_at` of the last
feedback of that designation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from shared.domain.identifiers import compute_resident_id_check
from tests.support.subjects import new_uscc

LIST_TYPE = "court.dishonest-debtor"
LEVEL = "especially_serious"


def _resident_id(run: int, i: int) -> str:
    """Distinct by construction for (run, i), i < 1,000,000."""
    birth = f"19{50 + run % 50:02d}{1 + (i // 1000) % 12:02d}{1 + (i // 12000) % 28:02d}"
    first17 = f"1101{5 + i // 336000:02d}{birth}{i % 1000:03d}"
    return first17 + compute_resident_id_check(first17)


def court_list(n: int, run: int, related_every: int = 10) -> list[dict[str, Any]]:
    """n court debtors (the full bundle at its level); every `related_every`-th is an
    organisation with its legal representative (落实到人: a designation of its own)."""
    out = []
    for i in range(n):
        organisation = related_every > 0 and i % related_every == 0
        body: dict[str, Any] = {
            "subject": {
                "id": new_uscc() if organisation else _resident_id(run, i),
                "name": f"被执行人{run}-{i}",
            },
            "list_type": LIST_TYPE,
            "level": LEVEL,
            "reason": "有履行能力而拒不履行生效法律文书确定义务",
            "legal_basis": [
                {"title": "最高人民法院关于公布失信被执行人名单信息的若干规定", "article": "第一条"}
            ],
            "decision_no": f"(2026)京0105执{run}-{i}号",
            "decided_at": "2026-01-05",
            "facts": {"court_ground": 1},
        }
        if organisation:
            body["related_persons"] = [
                {
                    "id": _resident_id(run + 7, i),
                    "name": "法定代表人",
                    "role": "legal_representative",
                }
            ]
        out.append(body)
    return out


@dataclass
class Sent:
    """What the load generator saw: per accepted designation, when its call returned."""

    accepted_at: dict[str, float] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    first_request: float = 0.0
    last_response: float = 0.0


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _post(url: str, token: str, chunk: list[dict[str, Any]]) -> tuple[float, dict[str, Any]]:
    with httpx.Client(base_url=url, timeout=300) as client:
        r = client.post(
            "/v1/designations/batch",
            json={"designations": chunk},
            headers={"Authorization": f"Bearer {token}"},
        )
    done = time.time()
    r.raise_for_status()
    doc: dict[str, Any] = r.json()
    return done, doc


def send(
    url: str,
    token: str,
    bodies: list[dict[str, Any]],
    *,
    chunk: int = 500,
    concurrency: int = 2,
    rate: float | None = None,
) -> Sent:
    """Post the list in chunks; at most `concurrency` calls in flight. With `rate`
    (designations/s), chunk k is sent no earlier than k·chunk/rate after the start."""
    sent = Sent(first_request=time.time())
    started = time.monotonic()

    def one(k: int, items: list[dict[str, Any]]) -> tuple[float, dict[str, Any]]:
        if rate is not None:
            time.sleep(max(0.0, started + k * len(items) / rate - time.monotonic()))
        return _post(url, token, items)

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(one, k, c) for k, c in enumerate(_chunks(bodies, chunk))]
        for f in futures:
            done, doc = f.result()
            for result in doc["results"]:
                if result["status"] == 201:
                    sent.accepted_at[result["designation_id"]] = done
                else:
                    sent.rejected.append(result)
    sent.last_response = time.time()
    return sent


def pg_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://")


@dataclass(frozen=True)
class Progress:
    designations: int
    ledger_designations: int
    ledger_tasks: int
    tasks_executed: int
    unpublished_statuses: int
    ledger_events: int

    @property
    def done(self) -> bool:
        return (
            self.designations > 0
            and self.ledger_designations == self.designations
            and self.ledger_tasks > 0
            and self.tasks_executed == self.ledger_tasks
            and self.unpublished_statuses == 0
        )


async def progress(url: str, schema_suffix: str) -> Progress:
    ledger, initiator = "ledger" + schema_suffix, "initiator" + schema_suffix
    conn = await asyncpg.connect(pg_url(url))
    try:
        row = await conn.fetchrow(  # schema names: the bench's own suffix, not input
            f"""select
              (select count(*) from {initiator}.designation_index) as designations,
              (select count(*) from {ledger}.designations) as ledger_designations,
              (select count(*) from {ledger}.tasks) as ledger_tasks,
              (select count(*) from {ledger}.tasks where state = 'executed') as executed,
              (select count(*) from {ledger}.outbox where published_at is null) as unpublished,
              (select coalesce(max(position), 0) from {ledger}.events) as events"""  # noqa: S608
        )
    finally:
        await conn.close()
    assert row is not None
    return Progress(*row.values())


def current(url: str, schema_suffix: str) -> Progress:
    return asyncio.run(progress(url, schema_suffix))


def wait_done(url: str, schema_suffix: str, timeout_s: float) -> tuple[Progress, float]:
    """Poll until the pipeline is done; (the last progress, the time it was seen)."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = asyncio.run(progress(url, schema_suffix))
        now = time.time()
        if seen.done or time.monotonic() > deadline:
            return seen, now
        time.sleep(0.25)


async def _last_feedback(url: str, schema_suffix: str) -> dict[str, float]:
    conn = await asyncpg.connect(pg_url(url))
    try:
        rows = await conn.fetch(
            f"""select payload->'data'->>'designation_id' as d,
                       extract(epoch from max(recorded_at)) as at
                from ledger{schema_suffix}.events
                where type like 'jsb.feedback.%' group by 1"""  # noqa: S608
        )
    finally:
        await conn.close()
    return {r["d"]: float(r["at"]) for r in rows}


def latencies(url: str, schema_suffix: str, sent: Sent) -> list[float]:
    """Per accepted designation: seconds from its 201 to its last feedback in the ledger."""
    last = asyncio.run(_last_feedback(url, schema_suffix))
    return sorted(last[d] - at for d, at in sent.accepted_at.items() if d in last)


async def _event_sizes(url: str, schema_suffix: str) -> dict[str, Any]:
    conn = await asyncpg.connect(pg_url(url))
    try:
        rows = await conn.fetch(
            f"""select split_part(type, '.', 2) = 'feedback' as feedback, count(*) as n,
                       avg(octet_length(payload::text))::int as bytes
                from ledger{schema_suffix}.events group by 1"""  # noqa: S608
        )
    finally:
        await conn.close()
    return {("feedback" if r["feedback"] else "lifecycle"): dict(r) for r in rows}


def event_sizes(url: str, schema_suffix: str) -> dict[str, Any]:
    """Per family: events stored and their mean size in bytes (the Kafka baseline's
    record sizes)."""
    return asyncio.run(_event_sizes(url, schema_suffix))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]
