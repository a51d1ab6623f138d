"""The contract of the initiator's `LedgerStatus` port (services/initiator/ports.py):
what the cross-check needs from the ledger."""

from __future__ import annotations

import pytest

from services.initiator.ledger_client import LedgerUnavailable
from services.initiator.ports import LedgerStatus
from tests.support.subjects import new_uscc

SANCTIONED = new_uscc()
CLEAN = new_uscc()
UNKNOWN = new_uscc()


class LedgerStatusContract:
    """Subclasses provide `ledger` (answers: SANCTIONED has a sanction in force,
    CLEAN has a record without one, UNKNOWN was never heard of) and `away` (a
    ledger that gives no usable answer)."""

    async def test_a_sanction_in_force_is_reported(self, ledger: LedgerStatus) -> None:
        assert await ledger.sanctioned(SANCTIONED) is True

    async def test_no_sanction_and_unknown_subjects_are_clear(self, ledger: LedgerStatus) -> None:
        assert await ledger.sanctioned(CLEAN) is False
        assert await ledger.sanctioned(UNKNOWN) is False

    async def test_no_usable_answer_is_unavailable(self, away: LedgerStatus) -> None:
        with pytest.raises(LedgerUnavailable):
            await away.sanctioned(CLEAN)
