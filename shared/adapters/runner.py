"""Background loops of a service (consumers, relays, timers), started in the
FastAPI lifespan and stopped cleanly on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Awaitable[None]]


class Loops:
    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, loop: Loop) -> None:
        async def guarded() -> None:
            try:
                await loop(self.stop)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background loop %s died", name)
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def close(self, timeout_s: float = 10.0) -> None:
        self.stop.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def first_of(
    aw: Coroutine[Any, Any, Any], stop: asyncio.Event, timeout_s: float | None = None
) -> bool:
    """Wait for `aw` (a coroutine) or `stop`, at most `timeout_s` (None: no bound);
    True if `aw` came first. Both waits are cancelled when it returns."""
    task = asyncio.ensure_future(aw)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait(
            {task, stopping}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        return task in done
    finally:
        for t in (task, stopping):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
