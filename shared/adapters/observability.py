"""Logs and metrics every service shares.

Logs are JSON lines rendered by structlog (stdlib `logging` calls go through the same
processors) with the service name and the correlation and causation ids of the
request or event being handled (context variables: the HTTP middleware sets them
from `X-Correlation-Id` / `X-Causation-Id`, the consumers from the event envelope),
so one designation can be followed across the four services. Personal identity
numbers are never logged: log subject ids through `identifiers.mask`, and the
`_redact` processor masks any resident identity number that slips into a line anyway.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.domain.identifiers import mask, mask_personal_numbers

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)

_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def _ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, var in (("correlation_id", correlation_id), ("causation_id", causation_id)):
        value = var.get()
        if value and key not in event:
            event[key] = value
    return event


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Why: a log line is kept and shipped far and wide; an identity number in it is a
    leak. Whole values go through the domain's rule, text through a pattern match."""
    for key, value in event.items():
        if isinstance(value, str):
            value = _RESIDENT_ID.sub(lambda m: mask(m.group(0)), value)
            event[key] = mask_personal_numbers(value)
        elif isinstance(value, dict | list):
            event[key] = mask_personal_numbers(value)
    return event


def _processors(service: str) -> list[Any]:
    def add_service(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        return event

    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        add_service,
        _ids,
    ]


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr for structlog loggers and stdlib `logging` alike."""
    shared = _processors(service)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            _redact,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
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
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
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
        self.check_seconds = Histogram(
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
