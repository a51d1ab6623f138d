"""The notifier's ingest, reminders, report, notices and live stream as a service
layer on the in-memory ports (no Postgres, no Kafka): status_batch.apply is what the
consumer's handler (ingest.py) runs in its transaction; the routes run on
`bootstrap.wire_memory`. The same against Postgres: tests/integration/
test_notifier_store.py, tests/e2e/test_notifier_notices.py."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from starlette.requests import Request

from services.notifier import api_stream, reminders, report_store, status_batch, subscriptions
from services.notifier.app import create_app
from services.notifier.bootstrap import MemoryPorts, wire_memory
from services.notifier.filters import Filters
from services.notifier.memory import MemoryWebhookStore
from services.notifier.notices import ReminderRules
from services.notifier.ports import DeliveryQuery, NoticeQuery
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings
from services.notifier.status_batch import Received, webhook_id
from shared.domain.catalogue.index import default_index
from shared.domain.china_time import china_date
from shared.domain.envelope import Envelope
from shared.web.auth import Principal, TokenRegistry
from tests.support.notifier_statuses import changed, designation_id_of, status_doc

BOX = SecretBox(Fernet.generate_key())
CATALOGUE = default_index()


def received(*envelopes: Envelope) -> list[Received]:
    return [Received(e, e.to_json_bytes().decode()) for e in envelopes]


async def subscribe(store: MemoryWebhookStore, name: str = "court", **filters: Any) -> UUID:
    new = subscriptions.NewSubscription(name, "https://x.example/h", Filters(**filters), None, None)
    async with store.begin() as tx:
        sub, _ = await subscriptions.create(tx, BOX, new, "ops")
    return UUID(sub["id"])


async def apply(store: MemoryWebhookStore, *envelopes: Envelope) -> None:
    async with store.begin() as tx:
        await status_batch.apply(CATALOGUE, tx, received(*envelopes))


def intercepted(subject: str, count: int) -> dict[str, Any]:
    doc = copy.deepcopy(status_doc(subject))
    doc["designations"][0]["tasks"][0]["interceptions"] = count
    return doc


async def test_a_batch_logs_queues_tells_and_keeps_each_status_once() -> None:
    store = MemoryWebhookStore()
    sid = await subscribe(store)
    first, later = changed("S1"), changed("S1", "revoked")
    await apply(store, first, later, first)  # twice in the batch
    await apply(store, later, first)  # the ledger re-publishes after a crash: same ids
    async with store.begin() as tx:
        queued = await tx.queue.find(DeliveryQuery(subscription_id=sid))
        told = await tx.notices.find(NoticeQuery(visible_to=None, subject_id="S1"))
        latest = await tx.views.latest(["S1"])
        watched = await tx.views.watched(datetime(2100, 1, 1).date())
        logged = await tx.status_log.after(0, 10)
    assert [d.webhook_id for d in queued] == [webhook_id(sid, first.id), webhook_id(sid, later.id)]
    assert [d.position for d in queued] == [s.position for s in logged]
    assert [s.body for s in logged] == [
        first.to_json_bytes().decode(),
        later.to_json_bytes().decode(),
    ]
    # the later status was read against the earlier one of the same batch
    assert [n["kind"] for n in told] == ["listed", "revoked"]
    assert latest == {"S1": later.data}
    assert watched == []  # revoked: nothing runs any more


async def test_the_watch_follows_the_latest_status_and_reminders_tell_once() -> None:
    store = MemoryWebhookStore()
    await apply(store, changed("S2"))
    async with store.begin() as tx:
        [item] = await tx.views.watched(datetime(2100, 1, 1).date())
    assert item.key == f"task:{designation_id_of('S2')}:tax.restrict_invoices:tax"
    rules = ReminderRules(timedelta(0), timedelta(days=5), timedelta(days=3))
    before = reminders.ShiftedClock(
        -(datetime.now(UTC) - datetime(2025, 3, 10, tzinfo=UTC)).total_seconds()
    )
    assert await reminders.scan(store, before, rules) == 0  # the deadline's day is not over
    assert await reminders.scan(store, reminders.ShiftedClock(), rules) == 2
    assert await reminders.scan(store, reminders.ShiftedClock(), rules) == 0  # told once
    async with store.begin() as tx:
        told = await tx.notices.find(NoticeQuery(visible_to=None, subject_id="S2"))
    assert [n["kind"] for n in told] == ["listed", "task_overdue", "task_escalated"]
    await apply(store, changed("S2", "revoked"))
    async with store.begin() as tx:
        assert await tx.views.watched(datetime(2100, 1, 1).date()) == []


async def test_held_for_a_disabled_subscription_and_only_what_passes_the_filters() -> None:
    store = MemoryWebhookStore()
    tax = await subscribe(store, "tax", list_types=["tax.major-violation"])
    court = await subscribe(store, "court", list_types=["court.dishonest-debtor"])
    off = await subscribe(store, "off")
    async with store.begin() as tx:
        await tx.subscriptions.disable(off, datetime.now(UTC), "failing")
    await apply(store, changed("S3"))
    async with store.begin() as tx:
        queued = await tx.queue.find(DeliveryQuery())
    assert sorted((d.subscription_id, d.state) for d in queued) == sorted(
        [(tax, "pending"), (off, "held")]
    )
    assert court not in {d.subscription_id for d in queued}


async def test_interceptions_are_counted_by_growth_and_reported() -> None:
    store = MemoryWebhookStore()
    e1, e2, e3 = (changed("S4", doc=intercepted("S4", n)) for n in (0, 3, 5))
    await apply(store, e1, e2)
    await apply(store, e3, e2)  # e2 again: counted once
    month = china_date(e3.time).strftime("%Y-%m")
    async with store.begin() as tx:
        assert await tx.views.interceptions(month) == {"tax.restrict_invoices": 5}
        answer = await report_store.monthly(tx.views, month)
    assert answer["interceptions_by_measure"] == {"tax.restrict_invoices": 5}


@pytest.fixture
async def notifier() -> AsyncIterator[tuple[httpx.AsyncClient, MemoryPorts, FastAPI]]:
    app = create_app(NotifierSettings(secret_key=Fernet.generate_key().decode()))
    app.state.tokens = TokenRegistry({"ops": "tok-ops", "tax": "tok-tax", "court": "tok-court"})
    app.state.secret_box = BOX
    ports = wire_memory(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        yield client, ports, app


async def test_notices_and_the_report_are_served_from_the_ports(
    notifier: tuple[httpx.AsyncClient, MemoryPorts, FastAPI],
) -> None:
    client, ports, _ = notifier
    person = "110101199003074477"
    envelope = changed(person, doc=intercepted(person, 2))
    await apply(ports.webhooks, envelope)
    as_tax = await client.get("/v1/notices", headers={"Authorization": "Bearer tok-tax"})
    as_court = await client.get("/v1/notices", headers={"Authorization": "Bearer tok-court"})
    assert as_tax.status_code == 200, as_tax.text
    [listed] = as_tax.json()
    assert listed["kind"] == "listed"
    assert listed["subject_id"] != person  # masked for a department
    assert listed["subject_id"].startswith(person[:6])
    assert as_court.json() == []  # neither addressed to the court nor about its work
    month = china_date(envelope.time).strftime("%Y-%m")
    ops = {"Authorization": "Bearer tok-ops"}
    monthly = await client.get("/v1/reports/monthly", params={"month": month}, headers=ops)
    assert monthly.status_code == 200, monthly.text
    assert monthly.json()["interceptions_by_measure"] == {"tax.restrict_invoices": 2}
    bad = await client.get("/v1/reports/monthly", params={"month": "2026-13"}, headers=ops)
    assert bad.status_code == 422
    assert "month" in bad.text


def _request(app: FastAPI) -> Request:
    return Request({"type": "http", "app": app, "headers": [], "method": "GET", "path": "/"})


async def _events(app: FastAPI, principal: Principal, n: int, **query: Any) -> list[dict[str, Any]]:
    args: dict[str, Any] = {
        "list_types": None,
        "polarity": None,
        "departments": None,
        "subject_kind": None,
        "event_types": None,
        "subject_id": None,
        "after": None,
        "last_event_id": None,
        **query,
    }
    response = await api_stream.stream(_request(app), principal, **args)
    out = []
    async for event in response.body_iterator:
        out.append(event)
        if len(out) == n:
            break
    return out  # type: ignore[return-value]


async def test_the_stream_follows_the_log_from_a_position_masked_and_filtered(
    notifier: tuple[httpx.AsyncClient, MemoryPorts, FastAPI],
) -> None:
    _, ports, app = notifier
    person = "110101199003074477"
    a, b, c = changed(person), changed("S5"), changed(person, "revoked")
    await apply(ports.webhooks, a, b, c)
    async with ports.webhooks.begin() as tx:
        positions = [s.position for s in await tx.status_log.after(0, 10)]
    tax = Principal("tax", frozenset({"department"}))
    every = await _events(app, tax, 3, after=0)
    assert [e["id"] for e in every] == [str(p) for p in positions]
    assert person not in every[0]["data"]  # masked for a department
    resumed = await _events(app, tax, 1, last_event_id=str(positions[0]), subject_id="s5")
    assert [e["id"] for e in resumed] == [str(positions[1])]
    revoked = await _events(app, tax, 1, after=0, event_types=["jsb.designation.revoked"])
    assert [e["id"] for e in revoked] == [str(positions[2])]
