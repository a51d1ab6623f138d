"""Helpers for the responder's e2e tests: designate through the initiator, read the
ledger's history, count feedback by (designation, measure, department, type), check."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.domain.catalogue.index import default_index
from tests.support.feedback_items import reports
from tests.support.initiator_bodies import stated_facts
from tests.support.poll import until
from tests.support.stack import Stack

FeedbackKey = tuple[str, str, str, str]
"""(designation_id, measure, department, kind)."""


def china_today() -> str:
    return (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()


def designation_body(
    subject_id: str, list_type: str, level: str = "especially_serious", **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"id": subject_id, "name": "某某测试主体"},
        "list_type": list_type,
        "level": level,
        "reason": "responder e2e",
        "legal_basis": [{"title": "测试依据", "article": "第一条"}],
        "decision_no": "测〔2026〕1号",
        "decided_at": china_today(),
    }
    if facts := stated_facts(list_type).model_dump(mode="json", exclude_defaults=True):
        body["facts"] = facts
    body.update(overrides)
    return body


def designator(list_type: str) -> str:
    lt = default_index().list_type(list_type)
    assert lt is not None
    return lt.designating_departments[0]


def designate(stack: Stack, subject_id: str, list_type: str, **overrides: Any) -> dict[str, Any]:
    with stack.client("initiator", as_=designator(list_type)) as initiator:
        r = initiator.post(
            "/v1/designations", json=designation_body(subject_id, list_type, **overrides)
        )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def initiator_post(stack: Stack, as_: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with stack.client("initiator", as_=as_) as initiator:
        r = initiator.post(path, json=body)
    assert r.status_code in (200, 201), r.text
    out: dict[str, Any] = r.json()
    return out


def history(stack: Stack, subject_id: str) -> list[dict[str, Any]]:
    with stack.client("ledger", as_="auditor") as ledger:
        r = ledger.get(f"/v1/subjects/{subject_id}/history")
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def feedback_counts(events: list[dict[str, Any]]) -> Counter[FeedbackKey]:
    counts: Counter[FeedbackKey] = Counter()
    for e in events:
        for kind, data in reports(e["type"], e["event"]["data"]):
            counts[(data["designation_id"], data["measure"], data["department"], kind)] += 1
    return counts


def tasks_of(designation: dict[str, Any]) -> set[tuple[str, str]]:
    return {(t["measure"], t["department"]) for t in designation["tasks"]}


def wait_feedback(
    stack: Stack,
    subject_id: str,
    designation_id: str,
    kind: str,
    tasks: set[tuple[str, str]],
    timeout_s: float = 60,
) -> Counter[FeedbackKey]:
    """Until the ledger has `kind` feedback for each of `tasks`; returns all counts."""
    wanted = {(designation_id, m, d, kind) for m, d in tasks}

    def probe() -> Counter[FeedbackKey]:
        return feedback_counts(history(stack, subject_id))

    return until(probe, lambda c: wanted <= set(c), timeout_s=timeout_s, every_s=0.5)


def check(
    client: httpx.Client, subject_id: str, *, measure: str | None = None, action: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"subject_id": subject_id}
    if measure is not None:
        body["measure"] = measure
    if action is not None:
        body["action"] = action
    return client.post("/v1/checks", json=body)


def wait_decision(
    stack: Stack,
    department: str,
    subject_id: str,
    decision: str,
    timeout_s: float = 60,
    **what: str,
) -> dict[str, Any]:
    with stack.client("responder", as_=department) as responder:

        def probe() -> dict[str, Any]:
            r = check(responder, subject_id, **what)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body

        return until(probe, lambda b: b["decision"] == decision, timeout_s=timeout_s, every_s=0.5)


def new_passport() -> str:
    import secrets

    return "E" + "".join(str(secrets.randbelow(10)) for _ in range(8))


def responder_tasks(stack: Stack, department: str, designation_id: str) -> list[dict[str, Any]]:
    with stack.client("responder", as_=department) as responder:
        r = responder.get("/v1/tasks", params={"designation_id": designation_id})
    assert r.status_code == 200, r.text
    tasks: list[dict[str, Any]] = r.json()["tasks"]
    return tasks


def wait_applied(
    stack: Stack, department: str, designation_id: str, event_type: str, timeout_s: float = 60
) -> list[dict[str, Any]]:
    """Until every task of the department on the designation has seen `event_type`."""
    return until(
        lambda: responder_tasks(stack, department, designation_id),
        lambda ts: bool(ts) and all(t["last_event_type"] == event_type for t in ts),
        timeout_s=timeout_s,
        every_s=0.5,
    )


def produce(stack: Stack, topic: str, key: str, value: bytes) -> None:
    """Publish one record on the stack's topic (suffix added)."""
    import asyncio

    from shared.adapters.kafka_clients import make_producer

    async def run() -> None:
        producer = make_producer(stack.infra.kafka, "responder-e2e")
        await producer.start()
        try:
            await producer.send_and_wait(topic + stack.topic_suffix, value=value, key=key.encode())
        finally:
            await producer.stop()

    asyncio.run(run())


def dead_letters(
    stack: Stack, consumer: str, timeout_s: float = 30
) -> list[tuple[bytes, dict[str, str]]]:
    """Records on the stack's dead-letter topic sent by `consumer` (read from the start)."""
    import asyncio

    from aiokafka import AIOKafkaConsumer

    from shared.adapters.topics import DEADLETTER

    async def run() -> list[tuple[bytes, dict[str, str]]]:
        reader = AIOKafkaConsumer(
            DEADLETTER + stack.topic_suffix,
            bootstrap_servers=stack.infra.kafka,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await reader.start()
        found: list[tuple[bytes, dict[str, str]]] = []
        try:
            batches = await reader.getmany(timeout_ms=int(timeout_s * 1000))
            while batches:
                for records in batches.values():
                    for r in records:
                        headers = {k: v.decode() for k, v in r.headers}
                        if headers.get("jsb-consumer") == consumer:
                            found.append((r.value or b"", headers))
                batches = await reader.getmany(timeout_ms=1000)
        finally:
            await reader.stop()
        return found

    return asyncio.run(run())
