"""In-memory adapters of the responder's ports (services/responder/ports.py), for the
service layer's unit tests; they pass the same contract suites as the Postgres ones."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from services.responder.check_journal import CheckRecord, JournalUnavailable


@dataclass
class MemoryCheckJournal:
    """`CheckRecorder` in memory: a check is recorded once `record` returns; `down`
    makes it refuse, as the Postgres journal does when its group cannot commit."""

    checks: list[CheckRecord] = field(default_factory=list)
    down: bool = False

    async def record(self, check: CheckRecord) -> None:
        await asyncio.sleep(0)  # another check may be recorded meanwhile, as in a group
        if self.down:
            raise JournalUnavailable("the in-memory journal is down")
        self.checks.append(check)
