"""The contract of `CheckRecorder` (services/responder/ports.py): every check whose
`record` returned is recorded once, with its interceptions byte for byte; a check
that could not be recorded raises `JournalUnavailable`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import orjson
import pytest

from services.responder.check_journal import CheckRecord, JournalUnavailable
from services.responder.ports import CheckRecorder
from shared.ports import OutboxMessage

Stored = tuple[list[UUID], list[tuple[str, bytes]]]
"""The check ids recorded, and the interceptions' (key, value) in the outbox."""


def check(n: int, blocked: bool) -> CheckRecord:
    reasons = [{"designation_id": str(uuid4()), "list_type": "l", "measure": "m"}]
    return CheckRecord(
        check_id=uuid4(),
        department="caac",
        identifier=f"id-{n}",
        subject_ids=[f"s-{n}"],
        measures=["m"],
        action=None,
        decision="block" if blocked else "allow",
        reasons_json=orjson.dumps(reasons if blocked else []).decode(),
        data_fresh_as_of=None,
        checked_at=datetime.now(UTC),
        interceptions=[OutboxMessage("jsb.feedback.v1", f"s-{n}", b"\x00\xff%d" % n, {})]
        if blocked
        else [],
    )


class CheckRecorderContract:
    """Subclasses provide fixtures `recorder` (a running CheckRecorder over an empty
    store), `stored` (reads that store back) and `broken` (a CheckRecorder whose store
    refuses every write)."""

    async def test_concurrent_checks_are_each_recorded_once_with_their_interceptions(
        self, recorder: CheckRecorder, stored: Callable[[], Awaitable[Stored]]
    ) -> None:
        checks = [check(n, blocked=n % 2 == 0) for n in range(60)]
        await asyncio.gather(*(recorder.record(c) for c in checks))
        ids, interceptions = await stored()
        assert sorted(ids) == sorted(c.check_id for c in checks)
        assert sorted(interceptions) == sorted(
            (m.key, m.value) for c in checks for m in c.interceptions
        )

    async def test_a_check_that_cannot_be_recorded_is_refused(self, broken: CheckRecorder) -> None:
        with pytest.raises(JournalUnavailable):
            await broken.record(check(1, blocked=True))
