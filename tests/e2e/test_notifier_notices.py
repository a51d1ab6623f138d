"""Notices, reminders and escalations, the live stream and the monthly report, behind
the real initiator, responder and ledger."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.notifier import reminders, report
from services.notifier.notices import ReminderRules
from shared.adapters.db import make_engine
from shared.domain.catalogue.index import default_index
from shared.domain.catalogue.model import Span
from shared.domain.china_time import china_date, start_of_china_day
from shared.domain.identifiers import mask
from shared.domain.periods import deadline
from tests.support import initiator_bodies as bodies
from tests.support.infra import Infra
from tests.support.notifier_stack import (
    MANUAL_DEPARTMENT,
    MANUAL_MEASURE,
    designate,
    notifier_stack,
)
from tests.support.poll import until
from tests.support.stack import Stack
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def nstack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from notifier_stack(infra, tmp_path_factory)


def _notices(stack: Stack, as_: str, **params: Any) -> list[dict[str, Any]]:
    with stack.client("notifier", as_=as_) as c:
        r = c.get("/v1/notices", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


def _ledger_status(stack: Stack, subject: str) -> dict[str, Any]:
    with stack.client("ledger", as_="auditor") as c:
        r = c.get(f"/v1/subjects/{subject}/status")
    assert r.status_code == 200, r.text
    status: dict[str, Any] = r.json()
    return status


def test_a_listing_tells_the_subject_by_when_to_object_as_the_calendar_counts(
    nstack: Stack,
) -> None:
    org, person = new_uscc(), new_resident_id()
    body = bodies.designation(
        org, related_persons=[{"id": person, "name": "张三", "role": "legal_representative"}]
    )
    created = designate(nstack, body)
    [listed] = until(
        lambda: _notices(nstack, "tax", subject_id=org, kind="listed"), lambda n: len(n) == 1, 60
    )
    designation = _ledger_status(nstack, org)["designations"][0]
    rule = default_index().list_type(bodies.TAX).objection  # type: ignore[union-attr]
    expected = deadline(
        china_date(datetime.fromisoformat(designation["issued_at"])),
        Span(amount=rule.review_working_days, unit=rule.review_unit),
    )
    assert listed["deadline"] == expected.isoformat()
    assert listed["designation_id"] == created["designation_id"]
    assert expected.isoformat() in listed["text_zh"]
    assert expected.isoformat() in listed["text_en"]
    assert "虚开增值税专用发票" in listed["text_zh"]  # why
    assert "Measures:" in listed["text_en"]
    # the related person is told too; the identity number masked except for auditors
    [for_ops] = until(
        lambda: _notices(nstack, "ops", subject_id=person, kind="listed"),
        lambda n: len(n) == 1,
        60,
    )
    assert for_ops["subject_id"] == mask(person) != person
    assert for_ops["recipient"] == mask(person)
    assert person not in str(for_ops)
    [for_auditor] = _notices(nstack, "auditor", subject_id=person, kind="listed")
    assert for_auditor["subject_id"] == person
    # a department that has nothing to do with it sees none of it
    assert _notices(nstack, "court", subject_id=org) == []


def test_objection_decided_and_revoked_are_told(nstack: Stack) -> None:
    subject = new_uscc()
    did = designate(nstack, bodies.designation(subject))["designation_id"]
    with nstack.client("initiator", as_="tax") as c:
        r = c.post(
            f"/v1/designations/{did}/objections",
            json={"raised_by": "subject", "grounds": "数据有误"},
        )
        assert r.status_code == 201, r.text
        r = c.post(
            f"/v1/objections/{r.json()['objection_id']}/resolution",
            json={"outcome": "upheld", "note": "认定错误，予以撤销"},
        )
        assert r.status_code in (200, 201), r.text
    kinds = until(
        lambda: {n["kind"] for n in _notices(nstack, "tax", subject_id=subject)},
        lambda k: {"listed", "objection_decided", "revoked"} <= k,
        60,
    )
    assert "listed" in kinds
    [decided] = _notices(nstack, "tax", subject_id=subject, kind="objection_decided")
    assert decided["details"]["outcome"] == "upheld"
    assert "成立" in decided["text_zh"]
    assert "upheld" in decided["text_en"]


def _scan(stack: Stack, at: datetime, rules: ReminderRules) -> int:
    schema = "notifier" + stack.schema_suffix

    async def run() -> int:
        from services.notifier.webhook_store import PostgresWebhooks
        from shared.adapters.db import PostgresTransactions

        engine = make_engine(stack.infra.database_url, schema=schema)
        try:
            clock = reminders.ShiftedClock((at - datetime.now(UTC)).total_seconds())
            store = PostgresTransactions(engine, PostgresWebhooks.on)
            return await reminders.scan(store, clock, rules)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_an_overdue_task_is_reminded_then_escalated_with_a_test_clock(nstack: Stack) -> None:
    subject = new_uscc()
    did = designate(nstack, bodies.designation(subject))["designation_id"]
    task = until(
        lambda: [
            t
            for d in _ledger_status(nstack, subject)["designations"]
            for t in d["tasks"]
            if t["measure"] == MANUAL_MEASURE
        ],
        lambda ts: len(ts) == 1,
        60,
    )[0]
    assert task["state"] == "pending"
    due = date.fromisoformat(task["deadline"])
    end = start_of_china_day(due + timedelta(days=1))
    rules = ReminderRules(
        remind_after=timedelta(0),
        escalate_after=timedelta(days=2),
        objection_nearing=timedelta(days=3),
    )
    key = f"task:{did}:{MANUAL_MEASURE}:{MANUAL_DEPARTMENT}"

    def mine(as_: str, kind: str) -> list[dict[str, Any]]:
        return [
            n
            for n in _notices(nstack, as_, kind=kind, subject_id=subject)
            if n["details"].get("measure") == MANUAL_MEASURE
        ]

    until(lambda: _watched(nstack, key), bool, 30)
    _scan(nstack, end - timedelta(minutes=1), rules)
    assert mine("ops", "task_overdue") == []
    _scan(nstack, end + timedelta(minutes=1), rules)
    [reminder] = mine(MANUAL_DEPARTMENT, "task_overdue")
    assert reminder["recipient"] == MANUAL_DEPARTMENT
    assert mine("ops", "task_escalated") == []
    _scan(nstack, end + timedelta(days=2, minutes=1), rules)
    _scan(nstack, end + timedelta(days=3), rules)  # told once, however often scanned
    [escalation] = mine("ops", "task_escalated")
    assert escalation["recipient"] == "ops"
    assert MANUAL_DEPARTMENT in escalation["text_en"]
    assert did in escalation["text_en"]
    assert MANUAL_MEASURE in escalation["text_zh"]
    assert len(mine(MANUAL_DEPARTMENT, "task_overdue")) == 1
    # the department sees its reminder, not the escalation about it... ops sees both
    assert mine("court", "task_overdue") == []


def _watched(stack: Stack, key: str) -> bool:
    async def run() -> bool:
        from sqlalchemy import select

        from services.notifier import tables

        engine = make_engine(stack.infra.database_url, schema="notifier" + stack.schema_suffix)
        try:
            async with engine.connect() as conn:
                found = await conn.scalar(
                    select(tables.watch.c.key).where(tables.watch.c.key == key)
                )
                return found is not None
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_initiator_is_told_when_an_objection_review_nears_and_passes(nstack: Stack) -> None:
    subject = new_uscc()
    did = designate(nstack, bodies.designation(subject))["designation_id"]
    with nstack.client("initiator", as_="tax") as c:
        r = c.post(
            f"/v1/designations/{did}/objections",
            json={"raised_by": "subject", "grounds": "数据有误"},
        )
    assert r.status_code == 201, r.text
    oid = r.json()["objection_id"]
    objection = until(
        # the ledger may not have folded the designation yet: no designation, no objection
        lambda: next(iter(_ledger_status(nstack, subject)["designations"]), {}).get("objection"),
        lambda o: o is not None and o["status"] == "open",
        60,
    )
    until(lambda: _watched(nstack, f"objection:{oid}"), bool, 30)
    end = start_of_china_day(date.fromisoformat(objection["review_deadline"]) + timedelta(days=1))
    rules = ReminderRules(timedelta(0), timedelta(days=5), objection_nearing=timedelta(days=3))
    _scan(nstack, end - timedelta(days=2), rules)
    [nearing] = _notices(nstack, "tax", subject_id=subject, kind="objection_deadline_nearing")
    assert nearing["recipient"] == "tax"
    assert _notices(nstack, "tax", subject_id=subject, kind="objection_deadline_passed") == []
    _scan(nstack, end + timedelta(hours=1), rules)
    [passed] = _notices(nstack, "tax", subject_id=subject, kind="objection_deadline_passed")
    assert passed["deadline"] == objection["review_deadline"]


def _read_events(
    stack: Stack, seconds: float, want: int, headers: dict[str, str], **params: Any
) -> tuple[list[int], list[dict[str, Any]], int]:
    """(ids, events, heartbeat comments) of the stream, until `want` events or `seconds`."""
    import json

    ids: list[int] = []
    events: list[dict[str, Any]] = []
    pings = 0
    started = time.monotonic()
    auth = {"Authorization": f"Bearer {stack.tokens['auditor']}", **headers}
    with (
        httpx.Client(base_url=stack.url("notifier"), timeout=5) as c,
        c.stream("GET", "/v1/stream", params=params, headers=auth) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith(":"):
                pings += 1
            elif line.startswith("id:"):
                ids.append(int(line[3:].strip()))
            elif line.startswith("data:"):
                events.append(json.loads(line[5:].strip()))
            if len(events) >= want or time.monotonic() - started > seconds:
                break
    return ids, events, pings


def test_the_stream_resumes_from_last_event_id_without_gaps(nstack: Stack) -> None:
    subject = new_uscc()
    did = designate(nstack, bodies.designation(subject))["designation_id"]
    # The ledger publishes a status per projection of the subject: its designation and
    # the departments' first answers come as one status or two (docs/ledger.md,
    # "Projections: the projector"), so this waits for two at most 15 s.
    first_ids, first, _ = _read_events(nstack, 15, 2, {}, after=0, subject_id=subject)
    assert 1 <= len(first) <= 2
    assert all(e["subject"] == subject for e in first)
    with nstack.client("initiator", as_="tax") as c:
        r = c.post(f"/v1/designations/{did}/revocation", json={"reason": "认定错误"})
    assert r.status_code in (200, 201), r.text
    resumed_ids: list[int] = []
    pings = 0
    deadline_at = time.monotonic() + 60
    while time.monotonic() < deadline_at:
        last = (resumed_ids or first_ids)[-1]
        ids, events, p = _read_events(
            nstack, 3, 1000, {"Last-Event-ID": str(last)}, subject_id=subject
        )
        resumed_ids += ids
        pings += p
        if any(d["state"] == "revoked" for e in events for d in e["data"]["designations"]):
            break
    whole, _, _ = _read_events(
        nstack, 5, len(first_ids) + len(resumed_ids), {}, after=0, subject_id=subject
    )
    assert first_ids + resumed_ids == whole
    assert resumed_ids
    assert min(resumed_ids) > max(first_ids)
    assert pings >= 1  # heartbeats every second in this stack


def test_the_monthly_report_equals_the_ledgers_numbers(nstack: Stack) -> None:
    subject = new_uscc()
    did = designate(nstack, bodies.designation(subject))["designation_id"]
    with nstack.client("initiator", as_="tax") as c:
        r = c.post(
            f"/v1/designations/{did}/objections",
            json={"raised_by": "subject", "grounds": "数据有误"},
        )
        assert r.status_code == 201, r.text
        r = c.post(
            f"/v1/objections/{r.json()['objection_id']}/resolution", json={"outcome": "rejected"}
        )
        assert r.status_code in (200, 201), r.text
    with nstack.client("responder", as_="tax") as c:
        until(
            lambda: c.post(
                "/v1/checks", json={"subject_id": subject, "measure": "tax.restrict_invoices"}
            ).json(),
            lambda a: a.get("decision") == "block",
            60,
        )
    month = china_date(datetime.now(UTC)).strftime("%Y-%m")

    def ledger_report() -> dict[str, Any]:
        statuses = [_ledger_status(nstack, s) for s in _ledger_subjects(nstack)]
        counts: dict[str, int] = {}
        for st in statuses:
            for d in st["designations"]:
                for t in d["tasks"]:
                    if t["interceptions"]:
                        counts[t["measure"]] = counts.get(t["measure"], 0) + t["interceptions"]
        return report.monthly(month, statuses, counts)

    def notifier_report() -> dict[str, Any]:
        with nstack.client("notifier", as_="auditor") as c:
            r = c.get("/v1/reports/monthly", params={"month": month})
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer

    time.sleep(3)
    pair = until(
        lambda: (ledger_report(), notifier_report()), lambda p: p[0] == p[1], 90, every_s=2
    )
    shown = pair[1]
    assert shown["designations_by_list_type"][bodies.TAX] >= 1
    assert shown["objections"]["rejected"] >= 1
    assert shown["interceptions_by_measure"]["tax.restrict_invoices"] >= 1
    # and the per-department counts equal the ledger's own statistics
    with nstack.client("ledger", as_="ops") as c:
        stats = {d["department"]: d for d in c.get("/v1/stats/departments").json()["departments"]}
    for d in shown["departments"]:
        assert d["assigned"] == stats[d["department"]]["assigned"]
    with nstack.client("notifier", as_="tax") as c:
        assert c.get("/v1/reports/monthly", params={"month": month}).status_code == 403
        assert c.get("/v1/reports/monthly", params={"month": "2026-13"}).status_code in (403, 422)
    # the operator's command prints the same numbers
    env = {
        **os.environ,
        "DATABASE_URL": nstack.infra.database_url,
        "JSB_NOTIFIER_DB_SCHEMA": "notifier" + nstack.schema_suffix,
    }
    out = subprocess.run(
        [".venv/bin/jsb", "report", "monthly", "--month", month, "--format", "csv"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    n = shown["designations_by_list_type"][bodies.TAX]
    assert f"{month},designations,{bodies.TAX},issued,{n}" in out.splitlines()
    md = subprocess.run(
        [".venv/bin/jsb", "report", "monthly", "--month", month, "--format", "md"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert f"| designations | {bodies.TAX} | issued | {n} |" in md


def _ledger_subjects(stack: Stack) -> list[str]:
    subjects: set[str] = set()
    after = 0
    with stack.client("ledger", as_="auditor") as c:
        while True:
            page = c.get("/v1/changes", params={"after": after, "limit": 5000}).json()
            subjects |= {e["event"]["subject"] for e in page["events"]}
            if page["next_after"] == after or not page["events"]:
                return sorted(subjects)
            after = page["next_after"]
