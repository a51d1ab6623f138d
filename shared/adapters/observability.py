"""Logs and metrics every service shares.

Logs are JSON lines on stderr, one shape for every line: the service name and the
correlation and causation ids of the request or event being handled (context
variables: the HTTP middleware sets them from `X-Correlation-Id` / `X-Causation-Id`, the
consumers from the event envelope), so one designation can be followed across the four
services. structlog's loggers render their lines themselves (`shared/adapters/json_lines.py`,
no stdlib record); stdlib `logging` records (most of the code, and the libraries) go
through the same processors in a `ProcessorFormatter`. Personal identity numbers are
never logged: log subject ids through `identifiers.mask`, and every line's renderer
masks any identity number that slips into a line anyway.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from structlog.typing import FilteringBoundLogger, Processor

from shared.adapters.json_lines import (
    LineWriter,
    LineWriterFactory,
    Sink,
    by_level,
    render,
    render_text,
)
from shared.adapters.loop_metrics import LoopHistogram

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)


def _ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, var in (("correlation_id", correlation_id), ("causation_id", causation_id)):
        value = var.get()
        if value and key not in event:
            event[key] = value
    return event


class _Service:
    """The service the lines are of, set by `configure_logging`."""

    name = "?"

    @classmethod
    def add(cls, _: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", cls.name)
        return event


_SINK = Sink()
_HEAD: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    _Service.add,
    _ids,
]
"""Every line's first fields, in this order (then the logger's name)."""
_TAIL: list[Processor] = [
    structlog.processors.format_exc_info,
    structlog.processors.EventRenamer("message"),
]
"""Every line's last steps before rendering."""
_NATIVE: list[Processor] = [by_level, *_HEAD, structlog.stdlib.add_logger_name, *_TAIL, render]
"""structlog's lines. One list, configured once: a logger cached on first use keeps it,
and the service, the stream and the level it reads are looked up per line."""
_BOUND = structlog.make_filtering_bound_logger(logging.NOTSET)  # the level: `by_level`


def line_logger(name: str) -> FilteringBoundLogger:
    """structlog's bound logger for the lines of `name`, as `structlog.get_logger(name)`
    gives after `configure_logging`, without the lazy proxy in front of it: the proxy
    costs ~3 µs a call (a third of the line; `timeit`). For a hot path's lines."""
    bound: FilteringBoundLogger = structlog.wrap_logger(
        LineWriter(_SINK, name), processors=_NATIVE, wrapper_class=_BOUND
    ).bind()
    return bound


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr for structlog loggers and stdlib `logging` alike."""
    _Service.name = service
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_HEAD, structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_TAIL,
            render_text,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    _SINK.handler = handler
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's loggers have their own plain handler: a 500's traceback (Starlette hands
    # it to the server after the problem is sent) carried identity numbers in clear.
    # The access log stays off if uvicorn turned it off (`--no-access-log`: no handler,
    # not propagated): the request middleware logs each request already, and a second
    # line per request cost ~14 % of the check's event loop (docs/benchmarks.md).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_log = logging.getLogger(name)
        logs = name != "uvicorn.access" or bool(server_log.handlers) or server_log.propagate
        server_log.handlers[:] = []
        server_log.propagate = logs
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=_NATIVE,
        logger_factory=LineWriterFactory(_SINK),
        wrapper_class=_BOUND,
        cache_logger_on_first_use=True,
    )


def event_ids(correlation: str | None, causation: str | None) -> tuple[Any, Any]:
    """Set the correlation and causation ids of what is being handled; returns the
    tokens for `reset_event_ids`."""
    return correlation_id.set(correlation), causation_id.set(causation)


def reset_event_ids(tokens: tuple[Any, Any]) -> None:
    correlation_id.reset(tokens[0])
    causation_id.reset(tokens[1])


class PipelineMetrics:
    """Throughput, lag, dead letters and outbox backlog, in the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.consumed = Counter(
            "jsb_consumed_records", "Records applied by a consumer", ["consumer"], registry=registry
        )
        self.batch_seconds = Histogram(
            "jsb_consumer_batch_seconds",
            "Time to apply one batch and store its offsets",
            ["consumer"],
            registry=registry,
        )
        self.lag = Gauge(
            "jsb_consumer_lag",
            "Records behind the end of the assigned partitions",
            ["consumer"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "jsb_dead_letters",
            "Poison records sent to the dead-letter topic",
            ["consumer"],
            registry=registry,
        )
        self.published = Counter(
            "jsb_outbox_published", "Outbox rows published to Kafka", registry=registry
        )
        self.outbox_backlog = Gauge(
            "jsb_outbox_backlog", "Outbox rows not yet published", registry=registry
        )
        self.producer_renewals = Counter(
            "jsb_outbox_producer_renewals",
            "Kafka producers replaced because a relay round's acknowledgements stalled",
            registry=registry,
        )
        self.partition_lag = Gauge(
            "jsb_consumer_partition_lag",
            "Records behind the high-water mark, per consumer group and partition",
            ["consumer", "group", "topic", "partition"],
            registry=registry,
        )


class BackboneMetrics:
    """The series issue 12 names beyond the pipeline's, declared once and registered on
    every service's registry (GET /metrics); each service fills the ones it owns:

    - `jsb_check_seconds`: the responder's check latency (the HTTP middleware times
      `POST /v1/checks`); interceptions are the responder's own
      `responder_checks_total{decision="block"}`;
    - `jsb_tasks_overdue{department}`: overdue feedback, the ledger's projection;
    - `jsb_webhook_deliveries_total{outcome}`: the notifier's deliveries.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        # observed by every check, from the event loop: the loop's kind (loop_metrics.py)
        self.check_seconds = LoopHistogram(
            "jsb_check_seconds",
            "Latency of a check (POST /v1/checks), as served",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.tasks_overdue = Gauge(
            "jsb_tasks_overdue",
            "Tasks past their feedback deadline without feedback, per department",
            ["department"],
            registry=registry,
        )
        self.webhook_deliveries = Counter(
            "jsb_webhook_deliveries",
            "Webhook deliveries by outcome (delivered, failed, retried, dead)",
            ["outcome"],
            registry=registry,
        )
