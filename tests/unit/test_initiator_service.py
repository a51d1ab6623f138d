"""The initiator's service layer on the in-memory adapters (no Postgres, no Kafka):
commands through `handlers.execute`, the batch's chunks, the cross-check guard, and
the HTTP routes end to end on `wire_memory` — the same code the Postgres wiring runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.initiator import batch, batch_view, handlers
from services.initiator.app import create_app
from services.initiator.bootstrap import wire_memory
from services.initiator.cross_check import incentive_guard
from services.initiator.memory import MemoryLedgerStatus, MemoryStreamStore
from services.initiator.settings import InitiatorSettings
from services.initiator.timer_plan import TimerKind
from shared.adapters.topics import DESIGNATIONS
from shared.domain.catalogue.index import default_index
from shared.domain.commands import RevokeDesignation
from shared.domain.errors import CommandRefused, DependencyUnavailable
from shared.domain.rejections import RejectionCode
from shared.web.auth import TokenRegistry
from tests.contracts.subject_streams import CTX, issue
from tests.support import initiator_bodies as bodies
from tests.support.subjects import new_resident_id, new_uscc


async def test_a_designation_is_written_with_its_outbox_message_and_timers() -> None:
    store, org = MemoryStreamStore(), new_uscc()
    command = issue(org, "samr", list_type=bodies.MARKET)
    async with store.begin() as tx:
        state = await handlers.execute(tx, org, command, CTX)
    assert state.designation(command.designation_id) is not None
    [message] = store.tables.outbox
    assert (message.topic, message.key) == (DESIGNATIONS, org)
    assert json.loads(message.value)["type"] == "jsb.designation.issued"
    assert {t.kind for t in store.tables.timers.values()} == {TimerKind.EXPIRE}


async def test_a_refused_command_raises_its_rejection_codes_and_writes_nothing() -> None:
    store, org = MemoryStreamStore(), new_uscc()
    command = issue(org)
    async with store.begin() as tx:
        await handlers.execute(tx, org, command, CTX)
    other = RevokeDesignation(
        department="court", at=datetime.now(UTC), designation_id=command.designation_id, reason="r"
    )
    with pytest.raises(CommandRefused) as refused:
        async with store.begin() as tx:
            await handlers.execute(tx, org, other, CTX)
    assert refused.value.code is RejectionCode.NOT_OWN_DESIGNATION
    assert len(store.tables.outbox) == 1


async def test_revocation_cancels_the_designations_timers() -> None:
    store, org = MemoryStreamStore(), new_uscc()
    command = issue(org, "samr", list_type=bodies.MARKET)
    async with store.begin() as tx:
        await handlers.execute(tx, org, command, CTX)
    revoke = RevokeDesignation(
        department="samr", at=datetime.now(UTC), designation_id=command.designation_id, reason="r"
    )
    async with store.begin() as tx:
        await handlers.execute(tx, org, revoke, CTX)
    assert store.tables.timers == {}


async def test_the_cross_check_refuses_an_incentive_while_sanctioned_or_unknown() -> None:
    store, org = MemoryStreamStore(), new_uscc()
    command = issue(org, **{**bodies.incentive(org), "subject": {"id": org, "name": "n"}})
    index = default_index()
    for ledger, refusal in (
        (MemoryLedgerStatus([org]), CommandRefused),
        (MemoryLedgerStatus(away=True), DependencyUnavailable),
    ):
        guard = incentive_guard(index, ledger, command.list_type, org)
        with pytest.raises(refusal):
            async with store.begin() as tx:
                await handlers.execute(tx, org, command, CTX, guard)
        assert ledger.asked == [org]
    assert store.tables.outbox == []
    async with store.begin() as tx:
        guard = incentive_guard(index, MemoryLedgerStatus(), command.list_type, org)
        await handlers.execute(tx, org, command, CTX, guard)
    assert len(store.tables.outbox) == 1


async def test_a_batch_chunk_decides_each_item_on_the_state_the_others_left() -> None:
    store, person = MemoryStreamStore(), new_resident_id()
    raw = [bodies.court_debtor(0, person), bodies.court_debtor(1, person), {"subject": "x"}]
    items = batch.parse(
        raw, "court", datetime.now(UTC), default_index(), principal="court", key="k"
    )
    async with store.begin() as tx:
        results = await batch.decide_chunk(tx, items, CTX, {}, sees_identity_numbers=True)
    assert [batch_view.result(r)["status"] for r in results] == [201, 201, 422]
    assert isinstance(results[2], batch.Refused)
    assert len(store.tables.events[person]) == 2


@pytest.fixture
async def initiator() -> AsyncIterator[tuple[httpx.AsyncClient, MemoryStreamStore]]:
    app = create_app(InitiatorSettings())  # its lifespan (Postgres, Kafka) never runs
    app.state.catalogue = default_index()
    app.state.tokens = TokenRegistry({"tax": "tok-tax", "ops": "tok-ops"})
    store = wire_memory(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://initiator") as client:
        yield client, store


async def test_the_http_api_on_memory_adapters(
    initiator: tuple[httpx.AsyncClient, MemoryStreamStore],
) -> None:
    client, store = initiator
    tax = {"Authorization": "Bearer tok-tax", "Idempotency-Key": "k-1"}
    body: dict[str, Any] = bodies.designation(new_uscc())
    first = await client.post("/v1/designations", json=body, headers=tax)
    assert first.status_code == 201, first.text
    again = await client.post("/v1/designations", json=body, headers=tax)
    assert again.json() == first.json()
    other = await client.post("/v1/designations", json={**body, "reason": "x"}, headers=tax)
    assert other.status_code == 422
    assert other.json()["type"].endswith(":idempotency_key_reused")
    assert len(store.tables.outbox) == 1

    shown = await client.get(
        f"/v1/designations/{first.json()['designation_id']}",
        headers={"Authorization": tax["Authorization"]},
    )
    assert shown.status_code == 200
    ops = await client.post(
        "/v1/designations", json=body, headers={"Authorization": "Bearer tok-ops"}
    )
    assert ops.status_code == 403
    assert ops.headers["content-type"] == "application/problem+json"
    assert ops.json()["errors"][0]["code"] == "department_not_allowed"

    many = await client.post(
        "/v1/designations/batch",
        json={"designations": [bodies.court_debtor(0), bodies.designation(new_uscc())]},
        headers={**tax, "Idempotency-Key": "b-1"},
    )
    assert many.status_code == 200
    assert (many.json()["accepted"], many.json()["rejected"]) == (1, 1)  # tax is no court
