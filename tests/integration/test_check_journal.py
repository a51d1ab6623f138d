"""The checks' group commit (services/responder/check_journal.py) on the real Postgres:
concurrent checks share one statement, each written once with its interceptions
byte for byte; a group that cannot commit answers none of its checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import orjson
import pytest

from services.responder.bootstrap import asyncpg_dsn
from services.responder.check_journal import _ALLOWS, CheckJournal, CheckRecord, JournalUnavailable
from shared.adapters.outbox import OutboxMessage
from tests.contracts.check_recorder import CheckRecorderContract, Stored
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(infra: Infra, schema_suffix: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(
        asyncpg_dsn(infra.database_url),
        min_size=1,
        max_size=2,
        server_settings={"search_path": "responder" + schema_suffix},
    ) as p:
        yield p


def _check(n: int, blocked: bool) -> CheckRecord:
    reasons = (
        [{"designation_id": str(uuid4()), "list_type": "l", "measure": "m"}] if blocked else []
    )
    return CheckRecord(
        check_id=uuid4(),
        department="caac",
        identifier=f"id-{n}",
        subject_ids=[f"s-{n}", "s-x"],
        measures=["m"],
        action=None if n % 2 else "book_flight",
        decision="block" if blocked else "allow",
        reasons_json=orjson.dumps(reasons).decode(),
        data_fresh_as_of=None if n % 3 else datetime.now(UTC),
        checked_at=datetime.now(UTC),
        interceptions=[
            OutboxMessage("jsb.feedback.v1", f"s-{n}", b'{"n": %d, "\xc3\xa9": 1}' % n, {"h": "v"})
        ]
        if blocked
        else [],
    )


async def test_concurrent_checks_commit_in_groups_each_once(pool: asyncpg.Pool) -> None:
    journal = CheckJournal(pool)
    stop = asyncio.Event()
    writer = asyncio.create_task(journal.run(stop))
    await asyncio.sleep(0)
    checks = [_check(n, blocked=n % 2 == 0) for n in range(200)]
    await asyncio.gather(*(journal.record(c) for c in checks))
    stop.set()
    await writer
    assert journal.written == 200
    assert journal.groups < 200  # they shared commits
    async with pool.acquire() as conn:
        rows = {r["check_id"]: r for r in await conn.fetch("SELECT * FROM checks")}
        outbox = await conn.fetch("SELECT key, value, headers FROM outbox ORDER BY id")
    assert set(rows) == {c.check_id for c in checks}
    for c in checks:
        row: Any = rows[c.check_id]
        assert row["subject_ids"] == c.subject_ids
        assert row["measures"] == c.measures
        assert row["action"] == c.action
        assert orjson.loads(row["reasons"]) == orjson.loads(c.reasons_json)
        assert row["data_fresh_as_of"] == c.data_fresh_as_of
        assert row["checked_at"] == c.checked_at
    sent = [m for c in checks for m in c.interceptions]
    assert [(r["key"], bytes(r["value"])) for r in outbox] == [(m.key, m.value) for m in sent]
    assert all(orjson.loads(r["headers"]) == {"h": "v"} for r in outbox)


def _broken_pool(infra: Infra) -> asyncpg.Pool:
    """A pool whose every statement fails (its schema does not exist)."""
    return asyncpg.create_pool(
        asyncpg_dsn(infra.database_url),
        min_size=1,
        max_size=1,
        server_settings={"search_path": "no_such_schema"},
    )


@asynccontextmanager
async def _running(journal: CheckJournal) -> AsyncIterator[CheckJournal]:
    stop = asyncio.Event()
    writer = asyncio.create_task(journal.run(stop))
    await asyncio.sleep(0)
    try:
        yield journal
    finally:
        stop.set()
        await writer


async def test_a_group_that_does_not_commit_answers_none_of_its_checks(infra: Infra) -> None:
    async with _broken_pool(infra) as broken, _running(CheckJournal(broken)) as journal:
        with pytest.raises(JournalUnavailable):
            await journal.record(_check(1, blocked=True))
    with pytest.raises(JournalUnavailable):  # not running: refused at once
        await journal.record(_check(2, blocked=False))


async def test_several_groups_commit_at_once_and_each_check_is_written_once(
    pool: asyncpg.Pool,
) -> None:
    journal = CheckJournal(pool, writers=2)
    stop = asyncio.Event()
    writer = asyncio.create_task(journal.run(stop))
    await asyncio.sleep(0)
    checks = [_check(n, blocked=n % 2 == 0) for n in range(300)]
    await asyncio.gather(*(journal.record(c) for c in checks))
    later = [_check(n, blocked=True) for n in range(300, 340)]
    recording = [asyncio.create_task(journal.record(c)) for c in later]
    await asyncio.sleep(0)
    stop.set()  # the checks already waiting still commit before it stops
    await asyncio.gather(*recording)
    await writer
    assert journal.written == 340
    async with pool.acquire() as conn:
        ids = [r["check_id"] for r in await conn.fetch("SELECT check_id FROM checks")]
        outbox = await conn.fetch("SELECT key, value FROM outbox")
    assert sorted(ids) == sorted(c.check_id for c in [*checks, *later])
    sent = [m for c in [*checks, *later] for m in c.interceptions]
    assert sorted((r["key"], bytes(r["value"])) for r in outbox) == sorted(
        (m.key, m.value) for m in sent
    )


class TestPostgresCheckJournal(CheckRecorderContract):
    @pytest.fixture
    async def recorder(self, pool: asyncpg.Pool) -> AsyncIterator[CheckJournal]:
        async with _running(CheckJournal(pool, writers=2)) as journal:
            yield journal

    @pytest.fixture
    def stored(self, pool: asyncpg.Pool) -> Callable[[], Awaitable[Stored]]:
        async def read() -> Stored:
            async with pool.acquire() as conn:
                ids = [r["check_id"] for r in await conn.fetch("SELECT check_id FROM checks")]
                rows = await conn.fetch("SELECT key, value FROM outbox")
            return ids, [(r["key"], bytes(r["value"])) for r in rows]

        return read

    @pytest.fixture
    async def broken(self, infra: Infra) -> AsyncIterator[CheckJournal]:
        async with _broken_pool(infra) as bad, _running(CheckJournal(bad)) as journal:
            yield journal


async def test_each_group_reports_its_size_statement_time_and_each_checks_wait(
    pool: asyncpg.Pool,
) -> None:
    seen: list[tuple[int, float, list[float]]] = []
    journal = CheckJournal(pool, writers=1, observe=lambda *group: seen.append(group))
    async with _running(journal):
        first = [asyncio.create_task(journal.record(_check(n, True))) for n in range(60)]
        for _ in range(1000):  # until they wait, then until the writer took them as a group
            await asyncio.sleep(0)
            if not journal._pending and all(not t.done() for t in first):
                break
        second = [asyncio.create_task(journal.record(_check(n, False))) for n in range(60, 120)]
        await asyncio.gather(*first, *second)
    assert sum(size for size, _, _ in seen) == 120
    assert len(seen) == journal.groups < 120
    for size, seconds, queued in seen:
        assert len(queued) == size
        assert seconds > 0
        assert all(0 <= waited < 60 for waited in queued)
    # one writer: the checks that arrived while the first group committed waited for it
    assert seen[0][0] == 60
    assert min(min(q) for _, _, q in seen[1:]) >= seen[0][1] / 2


async def test_only_allows_skip_the_flush_wait_and_the_setting_stays_in_their_transaction(
    pool: asyncpg.Pool,
) -> None:
    """An allow's group turns synchronous_commit off for its own transaction only: the
    connection's next transaction (a block's group, on the same pooled connection)
    commits durably again."""
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW synchronous_commit") == "on"
        async with conn.transaction():
            await conn.execute(_ALLOWS, orjson.dumps([_check(1, blocked=False).row()]).decode())
            assert await conn.fetchval("SHOW synchronous_commit") == "off"
        assert await conn.fetchval("SHOW synchronous_commit") == "on"
        await conn.execute(_ALLOWS, orjson.dumps([_check(2, blocked=False).row()]).decode())
        assert await conn.fetchval("SHOW synchronous_commit") == "on"


async def test_blocks_and_allows_commit_in_separate_groups_blocks_first(
    pool: asyncpg.Pool,
) -> None:
    seen: list[int] = []
    journal = CheckJournal(pool, writers=1, observe=lambda size, *_: seen.append(size))
    checks = [_check(n, blocked=n % 3 == 0) for n in range(90)]
    async with _running(journal):
        await asyncio.gather(*(journal.record(c) for c in checks))
    assert seen == [30, 60]  # all arrived together: the blocks' group, then the allows'
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT check_id, decision FROM checks")
        outbox = await conn.fetchval("SELECT count(*) FROM outbox")
    assert {r["check_id"]: r["decision"] for r in rows} == {c.check_id: c.decision for c in checks}
    assert outbox == 30


class _CountingPool:
    """The pool, counting the connections taken from it and given back."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.taken = 0
        self.given_back = 0

    async def acquire(self) -> Any:
        self.taken += 1
        return await self.pool.acquire()

    async def release(self, conn: Any) -> None:
        self.given_back += 1
        await self.pool.release(conn)


async def test_a_writer_keeps_its_connection_while_checks_keep_coming_then_gives_it_back(
    pool: asyncpg.Pool,
) -> None:
    counting = _CountingPool(pool)
    journal = CheckJournal(counting, writers=1)  # type: ignore[arg-type]
    async with _running(journal):
        first = [asyncio.create_task(journal.record(_check(n, True))) for n in range(5)]
        for _ in range(1000):  # the first group is being written: more checks arrive
            await asyncio.sleep(0)
            if not journal._pending:
                break
        rounds = [
            [asyncio.create_task(journal.record(_check(100 * r + n, r % 2 == 0))) for n in range(5)]
            for r in range(1, 6)
        ]
        await asyncio.gather(*first, *(t for r in rounds for t in r))
        for _ in range(1000):  # idle: the connection goes back to the pool
            if counting.given_back == counting.taken:
                break
            await asyncio.sleep(0.01)
        assert journal.groups > 1
        assert counting.taken < journal.groups  # the groups shared one connection
        assert counting.given_back == counting.taken  # none kept while idle
        async with pool.acquire() as conn, pool.acquire() as other:  # both of the 2 free
            assert await conn.fetchval("SELECT 1") == await other.fetchval("SELECT 1") == 1
    assert journal.written == 30


async def test_a_failed_group_gives_its_connection_back_at_once(infra: Infra) -> None:
    async with _broken_pool(infra) as broken:  # one connection
        counting = _CountingPool(broken)
        async with _running(CheckJournal(counting)) as journal:  # type: ignore[arg-type]
            for n in range(3):  # each group gets the one connection: none is kept
                with pytest.raises(JournalUnavailable):
                    await journal.record(_check(n, blocked=n % 2 == 0))
                assert counting.given_back == counting.taken == n + 1
