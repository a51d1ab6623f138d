"""Logs and metrics every service shares.

Logs are JSON lines with the service name and the correlation id of the request
or event being handled (a context variable), so one designation can be followed
across the four services. Personal identity numbers are never logged: log
subject ids through `identifiers.mask`.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid = correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


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
