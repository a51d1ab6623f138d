"""The notifier against the real Postgres: the contract suites of its ports (Notices,
SubscriptionStore, DeliveryQueue, StatusLog, SubjectViews); ingest applies a status message once (a
duplicate queues nothing, the webhook-id is fixed by subscription and message),
dead-letters poison; the queue hands out a subject's deliveries one at a time, in
order; recovery queues again what was missed. The in-memory adapters pass the same
suites in tests/unit/test_notifier_ports.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.notifier import subscriptions, tables
from services.notifier.filters import Filters
from services.notifier.ingest import Ingest
from services.notifier.notice_store import PostgresNotices
from services.notifier.secret_box import SecretBox
from services.notifier.status_batch import webhook_id
from services.notifier.webhook_store import PostgresWebhooks
from shared.adapters.db import PostgresTransactions, make_engine
from shared.domain.catalogue.index import default_index
from tests.contracts.delivery_queue import DeliveryQueueContract
from tests.contracts.notices import NoticesContract
from tests.contracts.status_log import StatusLogContract
from tests.contracts.subject_views import SubjectViewsContract
from tests.contracts.subscription_store import SubscriptionStoreContract
from tests.support.infra import Infra
from tests.support.notifier_statuses import (
    changed,
    designation_id_of,
    status_doc,
    status_record,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(infra: Infra, schema_suffix: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(infra.database_url, schema="notifier" + schema_suffix)
    yield engine
    await engine.dispose()


class TestPostgresNotices(NoticesContract):
    @pytest.fixture
    def notices(self, engine: AsyncEngine) -> PostgresTransactions[PostgresNotices]:
        return PostgresTransactions(engine, PostgresNotices)


@pytest.fixture
def postgres_webhooks(engine: AsyncEngine) -> PostgresTransactions[PostgresWebhooks]:
    return PostgresTransactions(engine, PostgresWebhooks.on)


class TestPostgresSubscriptions(SubscriptionStoreContract):
    @pytest.fixture
    def webhooks(
        self, postgres_webhooks: PostgresTransactions[PostgresWebhooks]
    ) -> PostgresTransactions[PostgresWebhooks]:
        return postgres_webhooks


class TestPostgresDeliveryQueue(DeliveryQueueContract):
    @pytest.fixture
    def webhooks(
        self, postgres_webhooks: PostgresTransactions[PostgresWebhooks]
    ) -> PostgresTransactions[PostgresWebhooks]:
        return postgres_webhooks


class TestPostgresStatusLog(StatusLogContract):
    @pytest.fixture
    def webhooks(
        self, postgres_webhooks: PostgresTransactions[PostgresWebhooks]
    ) -> PostgresTransactions[PostgresWebhooks]:
        return postgres_webhooks


class TestPostgresSubjectViews(SubjectViewsContract):
    @pytest.fixture
    def webhooks(
        self, postgres_webhooks: PostgresTransactions[PostgresWebhooks]
    ) -> PostgresTransactions[PostgresWebhooks]:
        return postgres_webhooks


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_ingest_applies_a_status_once_and_fixes_the_webhook_id(engine: AsyncEngine) -> None:
    box = SecretBox(Fernet.generate_key())
    store = PostgresTransactions(engine, PostgresWebhooks.on)
    async with store.begin() as tx:
        sub, _ = await subscriptions.create(
            tx,
            box,
            subscriptions.NewSubscription("s", "https://x.example", Filters(), None, None),
            "ops",
        )
    ingest = Ingest(default_index(), PostgresWebhooks.on, "")
    first, later = changed("S1"), changed("S1", "revoked")
    for _ in range(2):  # the ledger re-publishes after a crash: same message ids
        async with engine.begin() as conn:
            await ingest(
                conn,
                [
                    status_record(first, 0),
                    status_record(later, 1),
                    status_record(None, 2, raw=b"not json"),
                ],
            )
    assert await _count(engine, tables.status_log) == 2
    async with engine.connect() as conn:
        rows = list(await conn.execute(select(tables.deliveries).order_by("position")))
        kinds = set(await conn.scalars(select(tables.notices.c.kind)))
        poison = await conn.scalar(select(func.count()).select_from(tables.outbox))
    sub_id = UUID(sub["id"])
    assert [r.webhook_id for r in rows] == [
        webhook_id(sub_id, first.id),
        webhook_id(sub_id, later.id),
    ]
    assert kinds == {"listed", "revoked"}
    assert poison == 2  # the poison record was consumed twice (no offsets stored here)
    # the queue: one delivery of a subject at a time, in order
    async with store.begin() as tx:
        [c1] = await tx.queue.claim(sub_id, 4, [], 30)
    assert c1.webhook_id == rows[0].webhook_id
    async with store.begin() as tx:
        assert await tx.queue.claim(sub_id, 4, [], 30) == []  # S1's next waits
        await tx.queue.delivered(c1.id, 200)
    async with store.begin() as tx:
        [c2] = await tx.queue.claim(sub_id, 4, [], 30)
        assert c2.webhook_id == rows[1].webhook_id
        await tx.queue.failed(c2.id, status=400, error="HTTP 400", retry_in_s=None)
    # recovery queues the dead one again (same id), not the delivered one
    async with store.begin() as tx:
        assert await subscriptions.recover(tx, sub_id, 0, None) == 1
        [again] = await tx.queue.claim(sub_id, 4, [], 30)
    assert again.webhook_id == rows[1].webhook_id


async def _failing_subscription(store: PostgresTransactions[PostgresWebhooks]) -> UUID:
    """A subscription with a contact whose endpoint has failed since `_T0`."""
    async with store.begin() as tx:
        sub, _ = await subscriptions.create(
            tx,
            SecretBox(Fernet.generate_key()),
            subscriptions.NewSubscription("s", "https://x.example", Filters(), "court", None),
            "ops",
        )
        sid = UUID(sub["id"])
        await subscriptions.note_outcome(tx, sid, False, _WINDOW, "HTTP 503", _T0)
    return sid


_T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
_WINDOW = timedelta(days=5)


async def _disabled_notices(engine: AsyncEngine, sid: UUID) -> int:
    async with engine.connect() as conn:
        rows = await conn.scalars(
            select(tables.notices.c.details).where(tables.notices.c.kind == "endpoint_disabled")
        )
        return sum(1 for d in rows if d["subscription_id"] == str(sid))


async def test_a_second_instances_sweep_waits_for_the_first_and_disables_nothing(
    engine: AsyncEngine,
) -> None:
    """Two instances' sweeps at once: the second waits on the subscription's row and
    finds it disabled; the endpoint is disabled and told once."""
    store = PostgresTransactions(engine, PostgresWebhooks.on)
    sid = await _failing_subscription(store)
    now = _T0 + _WINDOW

    async def second() -> bool:
        async with store.begin() as tx:
            return await subscriptions.disable_if_down(tx, sid, _WINDOW, now)

    async with store.begin() as tx:
        assert await subscriptions.disable_if_down(tx, sid, _WINDOW, now)
        other = asyncio.create_task(second())
        await asyncio.sleep(0.5)
        assert not other.done()  # waiting for this transaction's lock
    assert await other is False
    assert await _disabled_notices(engine, sid) == 2  # ops and the contact, once


async def test_a_success_recorded_during_a_sweep_ends_the_streak_first(
    engine: AsyncEngine,
) -> None:
    store = PostgresTransactions(engine, PostgresWebhooks.on)
    sid = await _failing_subscription(store)

    async def sweep() -> bool:
        async with store.begin() as tx:
            return await subscriptions.disable_if_down(tx, sid, _WINDOW, _T0 + _WINDOW)

    async with store.begin() as tx:  # a delivery's success, being recorded
        await subscriptions.note_outcome(tx, sid, True, _WINDOW)
        swept = asyncio.create_task(sweep())
        await asyncio.sleep(0.5)
        assert not swept.done()
    assert await swept is False
    async with store.begin() as tx:
        assert (await subscriptions.get(tx, sid))["state"] == "enabled"
    assert await _disabled_notices(engine, sid) == 0


async def test_the_watch_follows_the_latest_status(engine: AsyncEngine) -> None:
    ingest = Ingest(default_index(), PostgresWebhooks.on, "")
    async with engine.begin() as conn:
        await ingest(conn, [status_record(changed("S2"), 0)])
    async with engine.connect() as conn:
        keys = list(await conn.scalars(select(tables.watch.c.key)))
    assert keys == [f"task:{designation_id_of('S2')}:tax.restrict_invoices:tax"]
    async with engine.begin() as conn:
        await ingest(conn, [status_record(changed("S2", "revoked"), 1)])
    assert await _count(engine, tables.watch) == 0


async def test_only_the_watched_deadlines_that_changed_are_written(engine: AsyncEngine) -> None:
    """A subject's next status rewrites none of its running deadlines that stayed the
    same (each rewrite was a deleted and an inserted tuple, their index entries and
    WAL): their row versions (`xmin`, `ctid`) are the ones the first status wrote; a
    moved deadline is updated, one no longer running deleted, a new one inserted."""
    subject = "S-DIFF-" + uuid4().hex[:8]
    doc = status_doc(subject)
    [designation] = doc["designations"]
    [task] = designation["tasks"]
    designation["tasks"] = [{**task, "measure": f"m.{i}"} for i in range(4)]
    ingest = Ingest(default_index(), PostgresWebhooks.on, "")
    versions = text("SELECT key, CAST(xmin AS text), CAST(ctid AS text), deadline FROM watch")

    async def kept() -> dict[str, tuple[str, str, Any]]:
        async with engine.connect() as conn:
            rows = await conn.execute(versions)
        return {k: (x, c, d) for k, x, c, d in rows}

    async with engine.begin() as conn:
        await ingest(conn, [status_record(changed(subject, doc=doc), 0)])
    first = await kept()
    assert len(first) == 4
    tasks = designation["tasks"]
    tasks[1] = {**tasks[1], "deadline": "2031-01-31"}  # moved
    tasks[2] = {**tasks[2], "state": "executed"}  # answered: no longer watched
    tasks.append({**task, "measure": "m.new"})
    async with engine.begin() as conn:
        await ingest(conn, [status_record(changed(subject, doc=doc), 1)])
    second = await kept()
    key = f"task:{designation['designation_id']}:{{}}:tax".format
    assert set(second) == {key("m.0"), key("m.1"), key("m.3"), key("m.new")}
    for unchanged in (key("m.0"), key("m.3")):
        assert second[unchanged] == first[unchanged]
    assert second[key("m.1")][:2] != first[key("m.1")][:2]
    assert str(second[key("m.1")][2]) == "2031-01-31"


async def test_a_bulk_listing_batch_is_applied_however_many_deadlines_it_watches(
    engine: AsyncEngine,
) -> None:
    """A court list imported in bulk: one batch of 100 new designations of different
    subjects, each with 50 pending tasks (the court bundle has ~48), is 5,000 watched
    deadlines of 7 columns. Written as one multi-row INSERT that is 35,000 bind
    parameters, over PostgreSQL's 32,767: the batch failed on every retry and the
    consumer stood still."""
    envelopes = []
    for n in range(100):
        subject = f"S-BULK-{n}"
        doc = status_doc(subject)
        [designation] = doc["designations"]
        [task] = designation["tasks"]
        designation["tasks"] = [{**task, "measure": f"m.{i}"} for i in range(50)]
        envelopes.append(changed(subject, doc=doc))
    ingest = Ingest(default_index(), PostgresWebhooks.on, "")
    async with engine.begin() as conn:
        await ingest(conn, [status_record(e, n) for n, e in enumerate(envelopes)])
    assert await _count(engine, tables.watch) == 100 * 50
    assert await _count(engine, tables.subject_latest) == 100
    assert await _count(engine, tables.status_log) == 100


def test_migration_0003_goes_up_and_down(infra: Infra) -> None:
    import asyncio

    from alembic import command

    from shared.adapters.migrations import config
    from tests.support.infra import unique
    from tests.support.ledger_harness import drop_schema

    schema = "notifier_" + unique()
    cfg = config("notifier", infra.admin_url, schema, infra.service_role)

    async def tables_now() -> set[str]:
        from sqlalchemy import text

        engine = make_engine(infra.admin_url, schema=schema)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
                )
                return {r[0] for r in rows}
        finally:
            await engine.dispose()

    try:
        command.upgrade(cfg, "0001")
        before = asyncio.run(tables_now())
        command.upgrade(cfg, "head")
        expected = {t.name for t in tables.metadata.sorted_tables}
        assert asyncio.run(tables_now()) - {"alembic_version"} == expected
        command.downgrade(cfg, "0001")
        assert asyncio.run(tables_now()) == before
    finally:
        asyncio.run(drop_schema(infra, schema))


async def test_the_status_documents_are_compressed_with_lz4(engine: AsyncEngine) -> None:
    """Migration 0004: TOAST compresses the ~24 kB documents with lz4, not pglz (~10×
    cheaper for the server per body), where the server has lz4."""
    async with engine.connect() as conn:
        methods = dict(
            (
                await conn.execute(
                    text(
                        "SELECT attrelid::regclass::text || '.' || attname,"
                        " CAST(attcompression AS text)"
                        " FROM pg_attribute WHERE attrelid IN"
                        " (CAST('status_log' AS regclass), CAST('subject_latest' AS regclass))"
                        " AND attname IN ('body', 'status')"
                    )
                )
            ).all()
        )
    assert methods == {"status_log.body": "l", "subject_latest.status": "l"}
