"""Group commit of checks: every check's row, and a block's interceptions, are written
by one writer in one transaction per group, and a check is answered only once its
group has committed.

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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from shared.adapters.outbox import OutboxMessage

log = logging.getLogger(__name__)

_CHECK = """
INSERT INTO checks (check_id, department, identifier, subject_ids, measures, action,
                    decision, reasons, data_fresh_as_of, checked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
"""
_OUTBOX = "INSERT INTO outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4::jsonb)"


class JournalUnavailable(Exception):
    """The group this check belonged to did not commit (Postgres away, or shutting down)."""


@dataclass(frozen=True, slots=True)
class CheckRecord:
    check_id: UUID
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

    def row(self) -> tuple[Any, ...]:
        return (
            self.check_id,
            self.department,
            self.identifier,
            self.subject_ids,
            self.measures,
            self.action,
            self.decision,
            self.reasons_json,
            self.data_fresh_as_of,
            self.checked_at,
        )


class CheckJournal:
    """Writes checks in groups; `record` returns once the check has committed."""

    def __init__(self, pool: asyncpg.Pool, max_group: int = 2000) -> None:
        self._pool = pool
        self._max_group = max_group
        self._pending: list[tuple[CheckRecord, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._running = False
        self.groups = 0
        self.written = 0

    async def record(self, check: CheckRecord) -> None:
        if not self._running:
            raise JournalUnavailable("the check journal is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((check, done))
        self._wakeup.set()
        await done

    async def run(self, stop: asyncio.Event) -> None:
        self._running = True
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                if not self._pending:
                    if stop.is_set():
                        return
                    waking = asyncio.ensure_future(self._wakeup.wait())
                    await asyncio.wait({waking, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    waking.cancel()
                self._wakeup.clear()
                group = self._pending[: self._max_group]
                del self._pending[: self._max_group]
                if group:
                    await self._commit(group)
        finally:
            self._running = False
            stopping.cancel()
            for _, done in self._pending:
                if not done.done():
                    done.set_exception(JournalUnavailable("shutting down"))
            self._pending.clear()

    async def _commit(self, group: list[tuple[CheckRecord, asyncio.Future[None]]]) -> None:
        checks = [c.row() for c, _ in group]
        outbox = [
            (m.topic, m.key, m.value, _headers(m.headers))
            for c, _ in group
            for m in c.interceptions
        ]
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.executemany(_CHECK, checks)
                if outbox:
                    await conn.executemany(_OUTBOX, outbox)
        except Exception as exc:  # nothing of the group committed: none is answered
            log.warning("a group of %d checks did not commit: %s", len(group), exc)
            for _, done in group:
                if not done.done():
                    done.set_exception(JournalUnavailable(str(exc)))
            return
        self.groups += 1
        self.written += len(group)
        for _, done in group:
            if not done.done():
                done.set_result(None)


def _headers(headers: dict[str, str]) -> str:
    return orjson.dumps(headers).decode()
