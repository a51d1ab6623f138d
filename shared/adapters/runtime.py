"""The I/O a service holds while it runs: a Postgres engine, an idempotent
producer, transactional consumers and the outbox relay, with their loops and
readiness checks. Built in the FastAPI lifespan, never at import.

Kafka may be down when a service starts (the responder must keep answering
checks from Postgres then): producer and consumers connect in their loops and
retry, so HTTP is up at once and `/readyz` tells what is missing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.adapters.collector import young_threshold
from shared.adapters.consumer import Handler, TransactionalConsumer
from shared.adapters.db import make_engine, ping
from shared.adapters.kafka_clients import make_producer
from shared.adapters.kafka_probe import KafkaProbe
from shared.adapters.observability import PipelineMetrics
from shared.adapters.outbox import OutboxRelay
from shared.adapters.runner import Loops, first_of
from shared.adapters.settings import ServiceSettings

log = logging.getLogger(__name__)

PRODUCER_STOP_S = 10.0


class Host(Protocol):
    """What the runtime needs of the app that hosts it (a FastAPI app, in practice):
    a `state` to publish the engine, the relay, readiness checks and metrics on. The
    adapters know no web framework (tests/unit/test_layers.py)."""

    state: Any


class ServiceRuntime:
    def __init__(
        self, app: Host, settings: ServiceSettings, engine: AsyncEngine, client_id: str
    ) -> None:
        self.app = app
        self.settings = settings
        self.engine = engine
        self.client_id = client_id
        self.loops = Loops()
        self.producer = make_producer(settings.kafka_bootstrap_servers, client_id)
        self.producer_started = asyncio.Event()
        self.consumers: list[TransactionalConsumer] = []
        self.outbox: Table | None = None
        self.metrics = PipelineMetrics(app.state.metrics)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        app: Host,
        settings: ServiceSettings,
        *,
        client_id: str,
        outbox: Table | None = None,
        before_relay: Callable[[ServiceRuntime, asyncio.Event], Awaitable[bool]] | None = None,
    ) -> AsyncIterator[ServiceRuntime]:
        """`before_relay(runtime, stop)`, when given, runs once the producer has started and
        before the relay publishes anything; the relay runs only if it returns True
        (the initiator's crash recovery, services/initiator/relay_recovery.py)."""
        engine = make_engine(settings.database_url, schema=settings.db_schema)
        rt = cls(app, settings, engine, client_id)
        rt.outbox = outbox
        app.state.engine = engine
        app.state.runtime = rt
        app.state.readiness["postgres"] = lambda: ping(engine)
        probe = KafkaProbe(settings.kafka_bootstrap_servers)
        app.state.readiness["kafka"] = probe.check
        rt.loops.start("kafka-probe", probe.run)
        rt.loops.start("producer", rt._start_producer)
        if outbox is not None:
            relay = OutboxRelay(
                engine,
                outbox,
                rt.producer,
                batch_size=settings.relay_batch_size or settings.batch_size,
                idle_sleep_s=settings.poll_interval_s,
                metrics=rt.metrics,
                ack_timeout_s=settings.relay_ack_timeout_s,
                renew=rt.renew_producer,
            )
            app.state.relay = relay

            async def run_relay(stop: asyncio.Event) -> None:
                if not await first_of(rt.producer_started.wait(), stop):
                    return
                if before_relay is not None and not await before_relay(rt, stop):
                    return
                # The producer that started may not be the one the relay was built with
                # (each failed start replaces it): publish with the one that runs.
                relay.use(rt.producer)
                await relay.run(stop)

            rt.loops.start("outbox-relay", run_relay)
        try:
            with young_threshold(settings.gc_threshold):
                yield rt
        finally:
            await rt.loops.close()
            for c in rt.consumers:
                await _quietly(c.stop())
            if rt.producer_started.is_set():
                await _stop_bounded(rt.producer)
            await engine.dispose()

    async def _start_producer(self, stop: asyncio.Event) -> None:
        if await self._started(stop):
            self.producer_started.set()

    async def _started(self, stop: asyncio.Event) -> bool:
        """Start `self.producer`, replacing it with a new one after each failed start
        (Kafka away); False if `stop` came first."""
        while not stop.is_set():
            try:
                await self.producer.start()
                return True
            except Exception as exc:
                log.warning("%s: Kafka producer not started (%s); retrying", self.client_id, exc)
                await _quietly(self.producer.stop())
                self.producer = make_producer(self.settings.kafka_bootstrap_servers, self.client_id)
                await asyncio.sleep(1.0)
        return False

    async def renew_producer(self, stop: asyncio.Event) -> AIOKafkaProducer:
        """A started new producer in place of one whose sends stalled (outbox.py says
        why). The old one's stop is bounded: it waits for the very sends that stalled."""
        await _stop_bounded(self.producer)
        self.producer = make_producer(self.settings.kafka_bootstrap_servers, self.client_id)
        await self._started(stop)
        return self.producer

    def consume(
        self,
        *,
        name: str,
        group_id: str,
        topics: Sequence[str],
        offsets: Table,
        handler: Handler,
        consumer_factory: Callable[..., TransactionalConsumer] = TransactionalConsumer,
    ) -> TransactionalConsumer:
        """Run a transactional consumer in the background (retrying its start while
        Kafka is away). `consumer_factory` builds it from TransactionalConsumer's
        keyword arguments: a subclass (or a partial of one) adds what a service needs."""

        def build() -> TransactionalConsumer:
            return consumer_factory(
                name=name,
                engine=self.engine,
                offsets=offsets,
                bootstrap=self.settings.kafka_bootstrap_servers,
                group_id=group_id,
                topics=topics,
                handler=handler,
                max_records=self.settings.batch_size,
                metrics=self.metrics,
                outbox=self.outbox,
                topic_suffix=self.settings.topic_suffix,
            )

        consumer = build()
        self.consumers.append(consumer)

        async def run(stop: asyncio.Event) -> None:
            nonlocal consumer
            while not stop.is_set():
                try:
                    await consumer.start()
                    break
                except Exception as exc:
                    log.warning("%s: consumer not started (%s); retrying", name, exc)
                    await _quietly(consumer.stop())
                    self.consumers.remove(consumer)
                    consumer = build()
                    self.consumers.append(consumer)
                    await asyncio.sleep(1.0)
            await consumer.run(stop)

        self.loops.start(f"consumer:{name}", run)
        return consumer


async def _stop_bounded(producer: AIOKafkaProducer) -> None:
    """Stop a producer, giving up after `PRODUCER_STOP_S`: a stalled producer's stop
    waits for the very sends that stalled (outbox.py)."""
    await _quietly(asyncio.wait_for(producer.stop(), PRODUCER_STOP_S))


async def _quietly(aw: Any) -> None:
    try:
        await aw
    except Exception:
        log.debug("ignored error while closing", exc_info=True)
