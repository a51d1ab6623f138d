"""The notifier's own ports (the shared ones are in shared/ports.py).

- `Notices`: the notice channel inside one transaction. What is told is kept (and
  sent) only if the transaction commits, and a notice whose `dedup_key` was told
  before is skipped, so planning twice tells once. The default adapter
  (`PostgresNotices`, notice_store.py) stores notices, served by `GET /v1/notices`;
  a mail or SMS channel would store, then send. `MemoryNotices` (memory.py) for
  tests; one contract suite for both (tests/contracts/notices.py).
- `Clock`: "now" for reminders (a test clock shifts it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.notifier.notices import Notice


@dataclass(frozen=True)
class NoticeQuery:
    visible_to: str | None
    """A department code: only the notices addressed to it or about its own work.
    None: all (ops, auditors)."""
    department: str | None = None
    subject_id: str | None = None
    kind: str | None = None
    after: int = 0
    limit: int = 100


class Notices(Protocol):
    channel: str

    async def tell(self, notices: Sequence[Notice]) -> int:
        """Record (and send) `notices`; returns how many were new."""

    async def find(self, query: NoticeQuery) -> list[dict[str, Any]]:
        """Stored notices in the order they were told, with `id` and `created_at`."""


class Clock(Protocol):
    def now(self) -> datetime: ...
