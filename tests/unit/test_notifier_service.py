"""The notifier's service layer on the in-memory adapters (no Postgres, no network):
the dispatcher's lanes with an `httpx.MockTransport` as the receiver, the
subscription rules, and the HTTP routes on `bootstrap.wire_memory`. The real
receivers and Postgres: tests/e2e/test_notifier_webhooks.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from cryptography.fernet import Fernet
from prometheus_client import CollectorRegistry
from standardwebhooks.webhooks import Webhook

from services.notifier import subscriptions
from services.notifier.app import create_app
from services.notifier.bootstrap import MemoryPorts, wire_memory
from services.notifier.dispatcher import DeliveryMetrics, Dispatcher
from services.notifier.filters import Filters
from services.notifier.memory import MemoryWebhookStore
from services.notifier.ports import DeliveryQuery, NewDelivery
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings
from services.notifier.status_batch import webhook_id
from shared.domain.errors import Conflict, InvalidRequest, NotFound
from shared.web.auth import TokenRegistry
from tests.contracts.delivery_queue import claim, logged, queued, subjects

BOX = SecretBox(Fernet.generate_key())


def settings(**over: Any) -> NotifierSettings:
    base: dict[str, Any] = {
        "dispatch_poll_s": 0.01,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "request_timeout_s": 2.0,
        "secret_key": Fernet.generate_key().decode(),
        "allow_loopback": True,
    }
    return NotifierSettings(**{**base, **over})


async def subscribed(
    store: MemoryWebhookStore, contact: str | None = None, **filters: Any
) -> tuple[UUID, str]:
    new = subscriptions.NewSubscription(
        "court", "https://court.example/hook", Filters(**filters), contact, None
    )
    async with store.begin() as tx:
        sub, secret = await subscriptions.create(tx, BOX, new, "ops")
    return UUID(sub["id"]), secret


async def dispatch_until(
    store: MemoryWebhookStore,
    receiver: httpx.MockTransport,
    done: Callable[[], Awaitable[bool]],
    **over: Any,
) -> None:
    """Run the dispatcher against `receiver` until `done()`."""
    dispatcher = Dispatcher(
        store,
        settings(**over),
        BOX,
        DeliveryMetrics(CollectorRegistry()),
        transport=receiver,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop))
    try:
        for _ in range(500):
            if await done():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the dispatcher did not get there")
    finally:
        stop.set()
        await running


async def states(store: MemoryWebhookStore, sid: UUID) -> list[tuple[str, int]]:
    async with store.begin() as tx:
        return [(d.state, d.attempts) for d in await tx.queue.find(DeliveryQuery(sid))]


async def test_the_dispatcher_sends_each_change_once_in_order_per_subject_signed() -> None:
    store = MemoryWebhookStore()
    sid, secret = await subscribed(store)
    changes = await logged(store, subjects(3) * 3)
    await queued(store, sid, changes)
    received: list[httpx.Request] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        await asyncio.sleep(0.005)
        return httpx.Response(204)

    async def all_recorded() -> bool:
        return all(s == "delivered" for s, _ in await states(store, sid))

    await dispatch_until(store, httpx.MockTransport(answer), all_recorded)
    assert len(received) == len(changes)
    verified = [Webhook(secret).verify(r.content, dict(r.headers)) for r in received]
    order = [str(body["m"]) for body in verified]
    for subject in {s for s, _, _ in changes}:
        expected = [str(m) for s, _, m in changes if s == subject]
        assert [m for m in order if m in expected] == expected
    assert await states(store, sid) == [("delivered", 1)] * len(changes)


async def test_a_failing_receiver_is_retried_with_the_same_webhook_id_and_a_4xx_is_dead() -> None:
    store = MemoryWebhookStore()
    sid, _ = await subscribed(store)
    [a, b] = subjects(2)
    changes = await logged(store, [a, b])
    await queued(store, sid, changes)
    seen: dict[str, list[str]] = {a: [], b: []}

    def answer(request: httpx.Request) -> httpx.Response:
        who = a if str(changes[0][2]) in request.content.decode() else b
        seen[who].append(request.headers["webhook-id"])
        if who == b:
            return httpx.Response(400)
        return httpx.Response(503 if len(seen[a]) <= 2 else 200)

    async def settled() -> bool:
        return [s for s, _ in await states(store, sid)] == ["delivered", "dead"]

    await dispatch_until(store, httpx.MockTransport(answer), settled)
    assert len(seen[a]) == 3
    assert len(set(seen[a])) == 1
    assert len(seen[b]) == 1  # a 400 is not retried
    assert await states(store, sid) == [("delivered", 3), ("dead", 1)]


async def test_an_endpoint_failing_too_long_is_disabled_and_ops_and_its_contact_are_told() -> None:
    store = MemoryWebhookStore()
    sid, _ = await subscribed(store, contact="court")
    long_ago = timedelta(0)
    async with store.begin() as tx:
        assert not await subscriptions.note_outcome(tx, sid, False, long_ago, "HTTP 503")
        assert not await subscriptions.note_outcome(tx, sid, True, long_ago)  # streak ends
        assert not await subscriptions.note_outcome(tx, sid, False, timedelta(days=5), "x")
        assert not await subscriptions.note_outcome(tx, sid, False, timedelta(days=5), "x")
    async with store.begin() as tx:
        assert await subscriptions.note_outcome(tx, sid, False, long_ago, "HTTP 503")
        assert not await subscriptions.note_outcome(tx, sid, False, long_ago, "HTTP 503")
        sub = await subscriptions.get(tx, sid)
    assert sub["state"] == "disabled"
    assert sub["disabled_reason"].endswith(": HTTP 503")
    told = store.notice_store.rows
    assert [(n["kind"], n["recipient"]) for n in told] == [
        ("endpoint_disabled", "ops"),
        ("endpoint_disabled", "court"),
    ]
    async with store.begin() as tx:
        with pytest.raises(Conflict):
            await subscriptions.recover(tx, sid, 0, None)
        assert (await subscriptions.enable(tx, sid))["state"] == "enabled"


async def test_a_disabled_endpoint_gets_no_lane_and_enable_with_recover_sends_the_missed() -> None:
    store = MemoryWebhookStore()
    sid, _ = await subscribed(store, polarity="sanction")
    [a] = subjects(1)
    async with store.begin() as tx:
        await tx.subscriptions.disable(sid, datetime.now(UTC), "down")
    missed = []
    async with store.begin() as tx:
        for n in range(3):
            message = uuid4()
            p = await tx.status_log.append(message, a, {"polarities": ["sanction"]}, f'"{n}"')
            assert p is not None
            missed.append(p)
        await tx.status_log.append(uuid4(), a, {"polarities": ["incentive"]}, '"no"')
    async with store.begin() as tx:
        assert await subscriptions.enable(tx, sid)
        assert await subscriptions.recover(tx, sid, missed[0] - 1, None) == 3
        assert await subscriptions.recover(tx, sid, missed[0] - 1, None) == 0
    bodies: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content.decode())
        return httpx.Response(200)

    async def all_recorded() -> bool:
        return [s for s, _ in await states(store, sid)] == ["delivered"] * 3

    await dispatch_until(store, httpx.MockTransport(answer), all_recorded)
    assert bodies == ['"0"', '"1"', '"2"']


async def test_after_enable_a_subjects_changes_go_out_in_position_order_before_any_recover() -> (
    None
):
    """The cause of the e2e test's misorder: a change that died during the failing
    streak no longer held its subject back, so the first claim after `enable` (before
    `recover` could requeue the dead one) sent the subject's newer change first."""
    store = MemoryWebhookStore()
    sid, _ = await subscribed(store)
    [a, b] = subjects(2)
    changes = await logged(store, [a, a])
    await queued(store, sid, changes)
    long_ago = timedelta(0)
    [first] = await claim(store, sid)  # a's first change: attempts exhausted, dead
    async with store.begin() as tx:  # as the dispatcher records an outcome: one `at`
        at = datetime.now(UTC)
        await tx.queue.failed(first.id, status=503, error="HTTP 503", retry_in_s=None, at=at)
        await subscriptions.note_outcome(tx, sid, False, long_ago, "HTTP 503", at)
    [second] = await claim(store, sid)  # a's second change: waits for its retry
    async with store.begin() as tx:
        at = datetime.now(UTC)
        await tx.queue.failed(second.id, status=503, error="HTTP 503", retry_in_s=0, at=at)
        assert await subscriptions.note_outcome(tx, sid, False, long_ago, "HTTP 503", at)
    missed = await logged(store, [a, b])  # while disabled: the ingest holds them
    async with store.begin() as tx:
        await tx.queue.enqueue(
            [NewDelivery(sid, p, s, webhook_id(sid, m), held=True) for s, p, m in missed]
        )
    assert [s for s, _ in await states(store, sid)] == ["dead", "pending", "held", "held"]
    async with store.begin() as tx:
        assert (await subscriptions.enable(tx, sid))["state"] == "enabled"
    sent = []
    for _ in range(5):  # the lane's rounds, with no recover in between
        for c in await claim(store, sid):
            sent.append(c.position)
            async with store.begin() as tx:
                await tx.queue.delivered(c.id, 200)
    positions = [p for _, p, _ in changes + missed]
    assert [p for p in sent if p != missed[1][1]] == positions[:3]
    assert sorted(sent) == positions
    async with store.begin() as tx:
        assert await subscriptions.recover(tx, sid, positions[0] - 1, None) == 0


async def test_delete_cancels_pending_and_hides_the_subscription() -> None:
    store = MemoryWebhookStore()
    sid, _ = await subscribed(store)
    await queued(store, sid, await logged(store, subjects(2)))
    async with store.begin() as tx:
        await subscriptions.delete(tx, sid)
    assert await states(store, sid) == [("cancelled", 0), ("cancelled", 0)]
    async with store.begin() as tx:
        assert await subscriptions.all_(tx) == []
        with pytest.raises(NotFound):
            await subscriptions.get(tx, sid)
        with pytest.raises(NotFound):
            await subscriptions.delete(tx, sid)


async def test_rotation_signs_with_both_secrets_during_the_overlap() -> None:
    store = MemoryWebhookStore()
    sid, old = await subscribed(store)
    async with store.begin() as tx:
        new, _ = await subscriptions.rotate(tx, BOX, sid, timedelta(hours=1))
        assert await subscriptions.signing_secrets(tx, BOX, sid) == [new, old]
        await subscriptions.rotate(tx, BOX, sid, timedelta(0))
        assert len(await subscriptions.signing_secrets(tx, BOX, sid)) == 1
        with pytest.raises(NotFound):
            await subscriptions.rotate(tx, BOX, uuid4(), timedelta(0))


def test_a_private_url_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        subscriptions.check_url(settings(), "http://10.0.0.1/hook")


@pytest.fixture
async def notifier() -> AsyncIterator[tuple[httpx.AsyncClient, MemoryPorts]]:
    app = create_app(settings())  # its lifespan (Postgres, Kafka) never runs
    app.state.tokens = TokenRegistry({"ops": "tok-ops", "tax": "tok-tax"})
    app.state.secret_box = BOX
    ports = wire_memory(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        yield client, ports


async def test_the_http_api_on_memory_adapters(
    notifier: tuple[httpx.AsyncClient, MemoryPorts],
) -> None:
    client, ports = notifier
    ops = {"Authorization": "Bearer tok-ops", "Idempotency-Key": "k-1"}
    body = {"name": "court", "url": "http://127.0.0.1:9/hook", "contact": "court"}
    first = await client.post("/v1/subscriptions", json=body, headers=ops)
    assert first.status_code == 201, first.text
    assert first.json()["secret"].startswith("whsec_")
    again = await client.post("/v1/subscriptions", json=body, headers=ops)
    assert again.json() == first.json()  # the stored answer, its secret opened again
    tax = await client.post(
        "/v1/subscriptions", json=body, headers={"Authorization": "Bearer tok-tax"}
    )
    assert tax.status_code == 403
    sid = first.json()["id"]
    listed = await client.get("/v1/subscriptions", headers=ops)
    assert [s["id"] for s in listed.json()] == [sid]
    assert "secret" not in listed.json()[0]
    rotated = await client.post(
        f"/v1/subscriptions/{sid}/secret/rotate", headers=ops | {"Idempotency-Key": "k-2"}
    )
    assert rotated.status_code == 200, rotated.text
    async with ports.webhooks.begin() as tx:
        secrets = await subscriptions.signing_secrets(tx, BOX, UUID(sid))
    assert secrets == [rotated.json()["secret"], first.json()["secret"]]
    changes = await logged(ports.webhooks, subjects(1))
    async with ports.webhooks.begin() as tx:
        await tx.queue.enqueue([NewDelivery(UUID(sid), changes[0][1], changes[0][0], "msg_x")])
    found = await client.get("/v1/deliveries", params={"subscription": sid}, headers=ops)
    [delivery] = found.json()
    assert (delivery["webhook_id"], delivery["state"]) == ("msg_x", "pending")
    retried = await client.post(f"/v1/deliveries/{delivery['id']}/retry", headers=ops)
    assert retried.json()["attempts"] == 0
    missing = await client.post("/v1/deliveries/999999/retry", headers=ops)
    assert missing.status_code == 404
    gone = await client.delete(f"/v1/subscriptions/{sid}", headers=ops)
    assert gone.status_code == 204
    assert (await client.get(f"/v1/subscriptions/{sid}", headers=ops)).status_code == 404
    cancelled = await client.get("/v1/deliveries", params={"state": "cancelled"}, headers=ops)
    assert [d["id"] for d in cancelled.json()] == [delivery["id"]]
