"""/readyz's Kafka check answers from the latest background probe, without I/O."""

from __future__ import annotations

import asyncio

import pytest

from shared.adapters.kafka_probe import KafkaProbe, KafkaUnreachable


class Broker:
    def __init__(self) -> None:
        self.up = True
        self.calls = 0

    async def probe(self) -> object:
        self.calls += 1
        if not self.up:
            raise ConnectionRefusedError("connection refused")
        return {"jsb.status.v1"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_not_ready_before_the_first_probe() -> None:
    probe = KafkaProbe("unused:1", probe=Broker().probe)
    with pytest.raises(KafkaUnreachable, match="not probed yet"):
        asyncio.run(probe.check())


def test_the_check_follows_the_latest_probe_and_does_no_io() -> None:
    broker = Broker()
    probe = KafkaProbe("unused:1", probe=broker.probe)

    async def scenario() -> None:
        await probe.probe_once()
        for _ in range(50):
            await probe.check()
        assert broker.calls == 1  # fifty readiness answers, one probe
        broker.up = False
        await probe.probe_once()
        with pytest.raises(KafkaUnreachable, match="ConnectionRefusedError"):
            await probe.check()
        broker.up = True
        await probe.probe_once()
        await probe.check()

    asyncio.run(scenario())


def test_a_probe_that_hangs_counts_as_a_failure() -> None:
    async def hang() -> object:
        await asyncio.sleep(60)
        return None

    probe = KafkaProbe("unused:1", probe=hang, timeout_s=0.01)

    async def scenario() -> None:
        await probe.probe_once()
        with pytest.raises(KafkaUnreachable, match="TimeoutError"):
            await probe.check()

    asyncio.run(scenario())


def test_a_verdict_nobody_renewed_goes_stale() -> None:
    clock = Clock()
    probe = KafkaProbe("unused:1", probe=Broker().probe, every_s=1.0, timeout_s=3.0, clock=clock)

    async def scenario() -> None:
        await probe.probe_once()
        clock.now += probe.stale_after_s
        await probe.check()
        clock.now += 1.0
        with pytest.raises(KafkaUnreachable, match="no probe completed"):
            await probe.check()

    asyncio.run(scenario())


def test_the_loop_probes_until_stopped() -> None:
    broker = Broker()
    probe = KafkaProbe("unused:1", probe=broker.probe, every_s=0.001)

    async def scenario() -> None:
        stop = asyncio.Event()

        async def counted() -> object:
            if broker.calls == 2:
                stop.set()
            return await broker.probe()

        probe._probe = counted
        await asyncio.wait_for(probe.run(stop), 5)

    asyncio.run(scenario())
    assert broker.calls == 3
