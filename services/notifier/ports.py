"""The notifier's own ports (the shared ones are in shared/ports.py).

- `NoticeChannel`: where a notice goes. The default (`StoredChannel`, notice_store.py)
  keeps it in the notices table, served by `GET /v1/notices`; a mail or SMS channel
  would store and then send. Called inside the transaction that planned the notices.
- `Clock`: "now" for reminders (a test clock shifts it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier.notices import Notice


class NoticeChannel(Protocol):
    name: str

    async def send(self, conn: AsyncConnection, notices: Sequence[Notice]) -> int:
        """Record (and send) `notices`; one already told (same dedup_key) is skipped.
        Returns how many were new."""


class Clock(Protocol):
    def now(self) -> datetime: ...
