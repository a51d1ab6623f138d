"""In-memory adapter of the notifier's `Notices` port (ports.py), for unit tests:
the same contract suite as PostgresNotices (tests/contracts/notices.py). A
transaction stages what it tells and keeps it only when its block ends cleanly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from services.notifier.notices import Notice
from services.notifier.ports import NoticeQuery


class MemoryNotices:
    channel = "stored"

    def __init__(self, store: MemoryNoticeStore) -> None:
        self._store = store
        self._new: list[dict[str, Any]] = []

    async def tell(self, notices: Sequence[Notice]) -> int:
        known = {r["dedup_key"] for r in self._store.rows + self._new}
        fresh = []
        for n in notices:
            if n.dedup_key not in known:
                known.add(n.dedup_key)
                fresh.append({**asdict(n), "details": dict(n.details), "channel": self.channel})
        self._new += fresh
        return len(fresh)

    async def find(self, query: NoticeQuery) -> list[dict[str, Any]]:
        def shown(r: dict[str, Any]) -> bool:
            return (
                r["id"] > query.after
                and all(
                    who is None or who in (r["recipient"], r["department"])
                    for who in (query.visible_to, query.department)
                )
                and query.subject_id in (None, r["subject_id"])
                and query.kind in (None, r["kind"])
            )

        return [r for r in self._store.rows if shown(r)][: query.limit]

    def _commit(self) -> None:
        for row in self._new:
            self._store.rows.append(
                {**row, "id": len(self._store.rows) + 1, "created_at": datetime.now(UTC)}
            )


class MemoryNoticeStore:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryNotices]:
        tx = MemoryNotices(self)
        yield tx
        tx._commit()
