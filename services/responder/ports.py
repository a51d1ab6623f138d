"""What the responder's check path needs, as ports (issue 10): the Postgres adapters
(check_journal.CheckJournal, the table lookup of index_store) and the in-memory ones
(memory.py, live_index.LiveIndex) both satisfy them; each port's contract suite in
tests/contracts/ runs against both."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from services.responder.check_journal import CheckRecord
from services.responder.restriction_index import Found


class CheckRecorder(Protocol):
    """Records a check — its row, and a block's interceptions for the outbox — and
    returns only once that is durable; raises `JournalUnavailable` (nothing recorded)
    otherwise. A check is answered only after `record` returned."""

    async def record(self, check: CheckRecord) -> None: ...


class RestrictionLookup(Protocol):
    """What a check reads: the subjects known by an identifier, and the sanction
    measures the department enforces on them at `at` (POSIX seconds), in fold order."""

    def lookup(
        self, identifier: str, department: str, measures: Collection[str], at: float
    ) -> Found: ...
