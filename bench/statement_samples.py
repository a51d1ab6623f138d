"""A service's Postgres backends by statement, sampled: which statements its
backends run while the CPU is used (`bench.pipeline_cpu --profile DIR --statements`).

Without `pg_stat_statements` (not preloaded on the shared cluster, which is not
restarted for a bench), a thread polls `pg_stat_activity` every `interval_s` for the
backends whose `application_name` is the service's schema (shared/adapters/db.py
`session_settings`) and, for each, the CPU ticks its process used since the last
poll (/proc/<pid>/stat): the ticks are charged to the statement it is running at the
poll (or was last running, when idle: a statement that ended between two polls), and
each active sample is counted by statement and wait event. Rough (10 ms ticks, a
statement shorter than the interval is seen in proportion to its time), but the
split over a run of tens of seconds is what a profile needs. The polling costs the
cluster a little CPU of its own (its backend is not the service's: not counted).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import asyncpg

from bench.machine_cpu import MachineCpu
from bench.servers import cpu_seconds

_SPACES = re.compile(r"\s+")


def statement_key(query: str) -> str:
    """The statement's text, whitespace collapsed, cut to 160 characters."""
    return _SPACES.sub(" ", query).strip()[:160]


class StatementSamples(MachineCpu):
    """`with StatementSamples(pg_url, schema) as s: ...`, then `s.result()`. The
    sampling thread is MachineCpu's (its `_sample` replaced: the machine's own split
    is not taken here)."""

    def __init__(self, pg_url: str, schema: str, interval_s: float = 0.01) -> None:
        super().__init__(pg_url, {}, interval_s)
        self._schema = schema
        self._cpu: dict[str, float] = {}
        self._active: Counter[str] = Counter()
        self._waits: Counter[str] = Counter()
        self._last: dict[int, float] = {}
        self.polls = 0

    async def _sample(self, conn: asyncpg.Connection[Any]) -> None:
        await self._poll(conn)

    async def _poll(self, conn: asyncpg.Connection[Any]) -> None:
        rows = await conn.fetch(
            "SELECT pid, state, wait_event_type, wait_event, query FROM pg_stat_activity"
            " WHERE application_name = $1",
            self._schema,
        )
        self.polls += 1
        for r in rows:
            pid, key = int(r["pid"]), statement_key(r["query"] or "")
            try:
                cpu = cpu_seconds(pid)
            except (OSError, IndexError):
                continue
            before = self._last.get(pid)
            self._last[pid] = cpu
            if before is not None and cpu > before:
                self._cpu[key] = self._cpu.get(key, 0.0) + cpu - before
            if r["state"] == "active":
                self._active[key] += 1
                wait = r["wait_event_type"]
                self._waits[f"{wait}:{r['wait_event']}" if wait else "cpu"] += 1

    def result(self) -> dict[str, Any]:
        if self._error is not None:
            raise RuntimeError("sampling the statements failed") from self._error
        total = sum(self._cpu.values()) or 1.0
        return {
            "polls": self.polls,
            "cpu_s": round(sum(self._cpu.values()), 2),
            "cpu_by_statement": [
                {"share": round(s / total, 3), "cpu_s": round(s, 2), "statement": k}
                for k, s in sorted(self._cpu.items(), key=lambda kv: -kv[1])[:30]
            ],
            "active_samples": sum(self._active.values()),
            "active_by_statement": [
                {"samples": n, "statement": k} for k, n in self._active.most_common(30)
            ],
            "active_by_wait": dict(self._waits.most_common()),
        }
