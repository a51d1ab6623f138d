"""Kafka's reachability for `/readyz`, probed in the background.

Why not probe on each request: a probe opens an admin client (connect, API versions,
metadata: several round trips on the service's event loop). A service catching up on a
backlog keeps its loop busy, and a probe made inside a `/readyz` request that its caller
gives 2 s timed out again and again: in the long crash run a restarted notifier,
consuming and delivering normally, answered nothing but timeouts and 503s for 180 s
(docs/reliability.md). Probing every `every_s` in a loop of its own and answering from
the latest completed probe costs a request one loop turn, and still turns 503 within
about `every_s` of the broker going away (the latest probe failed).

Why every 5 s and not every second: a probe lists the cluster's topics, and its cost
grows with them: 80-88 ms of CPU when the development broker held 2,875 topics that
test runs had left behind (once a second, ~9 % of a core per idle service), 3.9 ms once
they were gone (the test session now deletes its topics, tests/support/topic_cleanup.py).
Every 5 s keeps a broker with many topics cheap, and /readyz still turns 503 within
about 5 s of the broker going away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from shared.adapters.kafka_admin import cluster_topics

Probe = Callable[[], Awaitable[object]]


class KafkaUnreachable(ConnectionError):
    """The latest probe failed, none has completed yet, or none completed lately."""


class KafkaProbe:
    def __init__(
        self,
        bootstrap: str,
        *,
        every_s: float = 5.0,
        timeout_s: float = 3.0,
        probe: Probe | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every_s = every_s
        self.timeout_s = timeout_s
        # A probe can take its timeout; later than this, the loop itself is stuck.
        self.stale_after_s = every_s + 2 * timeout_s + 5.0
        self._probe = probe or (lambda: cluster_topics(bootstrap, timeout_s=timeout_s))
        self._clock = clock
        self._failure: str | None = "not probed yet"
        self._at: float | None = None

    async def probe_once(self) -> None:
        try:
            await asyncio.wait_for(self._probe(), self.timeout_s)
            self._failure = None
        except Exception as exc:  # the reason is what /readyz shows
            self._failure = f"{type(exc).__name__}: {exc}"
        self._at = self._clock()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.probe_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every_s)

    async def check(self) -> None:
        """The readiness check: no I/O, the latest probe's verdict."""
        if self._failure is not None:
            raise KafkaUnreachable(self._failure)
        assert self._at is not None
        age = self._clock() - self._at
        if age > self.stale_after_s:
            raise KafkaUnreachable(f"no probe completed in the last {age:.0f} s")
