"""Group commit of checks: every check's row, and a block's interceptions, are written
in one transaction per group of checks, and a check is answered only once its group
has committed.

Why this never loses a recorded block: the HTTP answer waits for the commit of the
transaction holding the `checks` row and its `jsb.feedback.intercepted` outbox rows
(`await CheckJournal.record`). A process killed before that commit has answered none
of the group's checks (the caller sees a broken connection and retries: a new check);
killed after it, every answered check is in Postgres once — the `checks` primary key is
the check id, written by one INSERT — and its interceptions are in the outbox, which the
relay publishes after a restart (the ledger drops a re-published event by its id).
Proven by tests/e2e/test_check_kill.py (SIGKILL under check load).

Why group commit and not a transaction per check: the commit's WAL flush is the cost
(fsync on); one flush for every check that arrived while the previous group was being
written makes that cost per group instead of per check, with no timer: under light
load a group is one check and waits for nobody.

Why an allow's group does not wait for the WAL flush, and a block's does: an answered
block has consequences that must never be lost — its interceptions are reported to the
ledger (自动拦截) — so its group commits with `synchronous_commit` on, as every other
transaction. An allow reports nothing; its row is the department's evidence that the
check was made (应查必查) and what it was answered from. It is still written before
it is answered, in a committed transaction: a responder killed at any instant keeps
every answered allow, as every answered block (tests/e2e/test_check_kill.py). What
the allow gives up is only the wait for the disk: if Postgres itself (or the machine)
crashed within about three `wal_writer_delay`s (0.6 s by default) of the answer, the
allows answered in that window could be missing from `checks` — never a block, never
half a group, and Postgres stays consistent. Measured: a 20-check group's statement
took 3.3-4.0 ms with the flush and 0.3-0.5 ms without (median, load ~9), and the flush
was most of a check's wait. Allows and blocks are therefore grouped apart (blocks
taken first); `_ALLOWS` sets the setting for its own transaction only (tested: the
pooled connection's next transaction, a block's, commits durably).

Why several groups at a time (`writers`): measured, a group's statement took 15-31 ms
on the shared machine (responder_check_group_seconds; ~17 checks a group), and with
one writer a check arriving during a commit waited for it, then for its own: the
check's latency was ~1.5 commits and the rate ~checks-in-flight / that. With a new
group starting as soon as checks wait and a connection is free, a check waits for its
own commit only (Postgres merges the concurrent WAL flushes). Groups are independent
transactions: each check is still answered only once its own group committed, and the
relay publishes unpublished outbox rows whatever their commit order.

Why a writer keeps its connection while checks keep coming: taking one from the pool
and giving it back cost ~3 % of the event loop per group under check load (asyncpg's
acquire and release with their shield, timeout and callbacks; py-spy,
docs/benchmarks.md), for a group of ~7 checks. A connection whose statement succeeded
waits for the next group; once no check has come for `KEEP_IDLE_S`, the connections go
back to the pool (the index's loader and the table lookups share it). Giving them back
as soon as nothing waited cost more than it saved: the loop that starts the groups was
busy releasing while checks arrived (1,000-subject bench: the check's p50 8.3 -> 9.6 ms). A
statement that fails gives its connection back at once, so a broken one is never
reused.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from shared.adapters.outbox import OutboxMessage

log = logging.getLogger(__name__)

# One statement (one round trip, its own transaction) for a whole group: the checks
# and the interceptions as two JSON arrays. BEGIN + INSERTs + COMMIT took three round
# trips, each a wait for a CPU the load generator and Postgres share.
_GROUP = """
WITH recorded AS (
  INSERT INTO checks (check_id, department, identifier, subject_ids, measures, action,
                      decision, reasons, data_fresh_as_of, checked_at)
  SELECT check_id, department, identifier, subject_ids, measures, action,
         decision, reasons, data_fresh_as_of, checked_at
  FROM jsonb_to_recordset($1::jsonb) AS c(
    check_id uuid, department text, identifier text, subject_ids text[], measures text[],
    action text, decision text, reasons jsonb, data_fresh_as_of timestamptz,
    checked_at timestamptz)
)
INSERT INTO outbox (topic, key, value, headers)
SELECT topic, key, decode(value, 'base64'), headers
FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (topic text, key text, value text, headers jsonb))
  WITH ORDINALITY AS m(topic, key, value, headers, n)
ORDER BY n
"""


# Allows only: the same rows, committed without waiting for the WAL flush (the setting
# is local to this statement's own transaction; the CTE is referenced so that it runs).
_ALLOWS = """
WITH flushless AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))
INSERT INTO checks (check_id, department, identifier, subject_ids, measures, action,
                    decision, reasons, data_fresh_as_of, checked_at)
SELECT check_id, department, identifier, subject_ids, measures, action,
       decision, reasons, data_fresh_as_of, checked_at
FROM flushless, jsonb_to_recordset($1::jsonb) AS c(
  check_id uuid, department text, identifier text, subject_ids text[], measures text[],
  action text, decision text, reasons jsonb, data_fresh_as_of timestamptz,
  checked_at timestamptz)
"""


KEEP_IDLE_S = 1.0
"""How long a writer's connection waits for the next group before going back to the
pool (why: module docstring)."""


class JournalUnavailable(Exception):
    """The group this check belonged to did not commit (Postgres away, or shutting down)."""


@dataclass(slots=True)
class CheckRecord:
    """One check to record. Not frozen: built per check, and a frozen dataclass's
    `__init__` (every field through `object.__setattr__`) cost 1.6 us against 0.5 us."""

    check_id: UUID | str
    """The check's id, or its text (the check path makes the text: checks.outcome)."""
    department: str
    identifier: str
    subject_ids: list[str]
    measures: list[str]
    action: str | None
    decision: str
    reasons_json: str
    data_fresh_as_of: datetime | None
    checked_at: datetime
    interceptions: Sequence[OutboxMessage] = ()

    def row_values(self) -> dict[str, Any]:
        """The `checks` row as Python values."""
        check_id = self.check_id if isinstance(self.check_id, UUID) else UUID(self.check_id)
        return {**self.row(), "check_id": check_id, "reasons": orjson.loads(self.reasons_json)}

    def row(self) -> dict[str, Any]:
        """The `checks` row for the group's JSON (the reasons already JSON)."""
        return {
            "check_id": self.check_id,
            "department": self.department,
            "identifier": self.identifier,
            "subject_ids": self.subject_ids,
            "measures": self.measures,
            "action": self.action,
            "decision": self.decision,
            "reasons": orjson.Fragment(self.reasons_json),
            "data_fresh_as_of": self.data_fresh_as_of,
            "checked_at": self.checked_at,
        }


class CheckJournal:
    """Writes checks in groups; `record` returns once the check has committed."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        max_group: int = 2000,
        writers: int = 1,
        observe: Callable[[int, float, list[float]], None] = lambda size, seconds, queued: None,
    ) -> None:
        self._pool = pool
        self._max_group = max_group
        self._writers = writers
        """Groups committing at the same time (each on its own connection)."""
        self._observe = observe
        """Told each committed group's size, the seconds its statement took, and the
        seconds each of its checks waited before the group was taken (a writer busy)."""
        self._pending: list[tuple[CheckRecord, asyncio.Future[None], float]] = []
        """Blocks waiting (and any check but an allow): committed durably."""
        self._allows: list[tuple[CheckRecord, asyncio.Future[None], float]] = []
        """Allows waiting: committed without waiting for the WAL flush (why: above)."""
        self._idle: list[asyncpg.Connection[Any]] = []
        """Connections whose last group committed, kept for the next (why: above)."""
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        """The running loop, asked once (Python 3.11's `get_running_loop` makes a
        `getpid` system call every time)."""
        self._running = False
        self.groups = 0
        self.written = 0

    async def record(self, check: CheckRecord) -> None:
        if not self._running or self._loop is None:
            raise JournalUnavailable("the check journal is not running")
        done: asyncio.Future[None] = self._loop.create_future()
        waiting = self._pending if check.decision != "allow" else self._allows
        waiting.append((check, done, time.perf_counter()))
        self._wakeup.set()
        await done

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._running = True
        stopping = asyncio.ensure_future(stop.wait())
        writing: set[asyncio.Task[None]] = set()
        try:
            while True:
                if not (self._pending or self._allows) or len(writing) >= self._writers:
                    idle = not (self._pending or self._allows or writing)
                    if idle and stop.is_set():
                        return
                    waits: set[asyncio.Future[Any]] = set(writing)
                    waking = None
                    if len(writing) < self._writers:
                        waking = asyncio.ensure_future(self._wakeup.wait())
                        waits.add(waking)
                    if not stop.is_set():
                        waits.add(stopping)
                    keep = KEEP_IDLE_S if idle and self._idle else None
                    woke, _ = await asyncio.wait(
                        waits, timeout=keep, return_when=asyncio.FIRST_COMPLETED
                    )
                    if waking is not None:
                        waking.cancel()
                    writing = {t for t in writing if not t.done()}
                    if not woke:  # no check for KEEP_IDLE_S: the pool gets them back
                        await self._give_back()
                    continue
                self._wakeup.clear()
                durable = bool(self._pending)  # blocks first
                waiting = self._pending if durable else self._allows
                group = waiting[: self._max_group]
                del waiting[: self._max_group]
                writing.add(asyncio.ensure_future(self._commit(group, durable)))
        finally:
            self._running = False
            stopping.cancel()
            if writing:  # cancelled: the groups under way finish (their callers wait)
                await asyncio.gather(*writing, return_exceptions=True)
            for _, done, _ in [*self._pending, *self._allows]:
                if not done.done():
                    done.set_exception(JournalUnavailable("shutting down"))
            self._pending.clear()
            self._allows.clear()
            await self._give_back()

    async def _give_back(self) -> None:
        while self._idle:
            await self._pool.release(self._idle.pop())

    async def _commit(
        self, group: list[tuple[CheckRecord, asyncio.Future[None], float]], durable: bool
    ) -> None:
        taken = time.perf_counter()
        checks = orjson.dumps([c.row() for c, _, _ in group]).decode()
        outbox = orjson.dumps(
            [
                {
                    "topic": m.topic,
                    "key": m.key,
                    "value": base64.b64encode(m.value).decode(),
                    "headers": m.headers,
                }
                for c, _, _ in group
                for m in c.interceptions
            ]
        ).decode()
        started = time.perf_counter()
        conn = self._idle.pop() if self._idle else None
        committed = False
        try:
            if conn is None:
                conn = await self._pool.acquire()
            if durable:
                await conn.execute(_GROUP, checks, outbox)
            else:
                await conn.execute(_ALLOWS, checks)
            committed = True
        except Exception as exc:  # nothing of the group committed: none is answered
            log.warning("a group of %d checks did not commit: %s", len(group), exc)
            for _, done, _ in group:
                if not done.done():
                    done.set_exception(JournalUnavailable(str(exc)))
            return
        finally:
            if conn is not None:
                if committed:
                    self._idle.append(conn)  # for the next group (why: module docstring)
                else:
                    await self._pool.release(conn)
        self.groups += 1
        self.written += len(group)
        self._observe(len(group), time.perf_counter() - started, [taken - t for _, _, t in group])
        for _, done, _ in group:
            if not done.done():
                done.set_result(None)
