"""The contract of the notifier's `StatusLog` port (services/notifier/ports.py),
through `Transactions[Webhooks]`."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.notifier.ports import Webhooks
from shared.ports import Transactions


class StatusLogContract:
    """Subclasses provide a fixture `webhooks` giving Transactions[Webhooks]."""

    async def test_each_message_is_logged_once_at_a_later_position(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        first, second = uuid4(), uuid4()
        async with webhooks.begin() as tx:
            p1 = await tx.status_log.append(first, "S-" + first.hex, {"k": ["a"]}, "{}")
            p2 = await tx.status_log.append(second, "S-" + first.hex, {}, "{}")
        async with webhooks.begin() as tx:
            again = await tx.status_log.append(first, "S-" + first.hex, {}, "{}")
        assert p1 is not None
        assert p2 is not None
        assert p2 > p1
        assert again is None

    async def test_a_rolled_back_append_logs_nothing(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        message = uuid4()

        async def append_then_fail() -> None:
            async with webhooks.begin() as tx:
                assert await tx.status_log.append(message, "S", {}, "{}") is not None
                raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            await append_then_fail()
        async with webhooks.begin() as tx:
            assert await tx.status_log.append(message, "S", {}, "{}") is not None
