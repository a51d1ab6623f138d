"""What the initiator's service layer needs from the outside world, as Protocols.

`SubjectStreams` is one transaction's view of the subjects' lifecycle streams (with
their indexes, outbox and timers, written in that same transaction); `StreamStore`
opens such transactions; `LedgerStatus` answers the cross-check. Adapters:
repository.py (Postgres), memory.py (in memory, for the service-layer unit tests),
ledger_client.py (HTTP). Both stream adapters pass the same contract suite
(tests/contracts/test_subject_streams.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol
from uuid import UUID

from services.initiator.streams import Staged, Stream
from shared.domain.decide_support import CatalogueLookup
from shared.domain.fold_state import DesignationRecord
from shared.ports import Transactions


class SubjectStreams(Protocol):
    """The subjects' streams inside one transaction: nothing written is seen by
    others before it commits, and nothing is kept if it rolls back."""

    async def lock(self, subject_ids: Iterable[str]) -> None:
        """Hold the subjects' streams until the transaction ends (one command at a
        time per subject; the global lock order is the adapter's business)."""

    async def load(self, subject_ids: Iterable[str]) -> dict[str, Stream]:
        """Every named subject's stream, empty ones too."""

    async def write(self, staged: Staged, topic_suffix: str = "") -> None:
        """Append the staged events, index them and put them in the outbox.
        Raises ConcurrentChange when a stream moved since it was loaded."""

    async def plan_timers(
        self,
        records: Iterable[DesignationRecord],
        catalogue: CatalogueLookup,
        *,
        remind_before_working_days: int,
        fresh: set[UUID] | frozenset[UUID] = frozenset(),
    ) -> None:
        """Store the timers the designations need now; cancel those they no longer need."""

    async def subject_of_designation(self, designation_id: UUID) -> str | None: ...

    async def objection_target(self, objection_id: UUID) -> tuple[UUID, str] | None: ...


StreamStore = Transactions[SubjectStreams]
"""Opens transactions on the streams (Postgres: shared/adapters/db.py's
PostgresTransactions with repository.PostgresSubjectStreams; memory.py)."""


class LedgerStatus(Protocol):
    async def sanctioned(self, subject_id: str) -> bool:
        """True when the ledger shows a sanction in force on the subject; raises
        LedgerUnavailable when it gives no clear answer."""
