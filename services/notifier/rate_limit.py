"""A token bucket: at most `rate` requests a second per subscription, bursts up to
`burst`. One per lane, in memory (a limit per notifier instance). The clock and the
sleep are injectable (the monotonic clock and asyncio's sleep by default), so a test
can check what the bucket waits for without measuring time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

_HAIR = 1e-9


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.stamp = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    async def take(self) -> None:
        while True:
            self._refill()
            # Why the tolerance: after sleeping exactly until the next token, rounding in
            # (now - stamp) * rate can leave it a hair short of 1, and the next sleep
            # too small to move a clock whose resolution is coarser: it never arrives.
            if self.tokens >= 1 - _HAIR:
                self.tokens -= 1
                return
            await self.sleep((1 - self.tokens) / self.rate)
