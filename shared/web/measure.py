"""What every request leaves for an operator: its correlation and causation ids (from
`X-Correlation-Id` / `X-Causation-Id` or new; on the response and in every log line of
the request), one log line by route template (`jsb.http`, not for the routes machines
poll), and the HTTP metrics by route (`http_requests_total{method,route,status}`,
`http_request_seconds{method,route}`, and `jsb_check_seconds` for the check).

A plain ASGI middleware: `@app.middleware("http")` (BaseHTTPMiddleware) runs each
request in a task group with memory streams, which cost more CPU than a check itself
(docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.adapters.loop_metrics import (
    LoopCounter,
    LoopCounterChild,
    LoopHistogram,
    LoopHistogramChild,
)
from shared.adapters.observability import (
    BackboneMetrics,
    event_ids,
    line_logger,
    reset_event_ids,
)
from shared.adapters.random_ids import hex32

CHECK_ROUTE = "/v1/checks"
"""The responder's check: its latency is `jsb_check_seconds` (issue 12)."""
QUIET_ROUTES = frozenset({"/metrics", "/healthz", "/readyz"})
"""Polled by machines: no log line per request."""
LOGGER = "jsb.http"
log = line_logger(LOGGER)


class RequestMeasure:
    """The ids, the log line and the metrics of each request (module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        requests: LoopCounter,
        latency: LoopHistogram,
        backbone: BackboneMetrics,
    ) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency
        self.backbone = backbone
        # Why: prometheus_client's `labels()` checked and converted its values and took a
        # lock on every call: 2.7 us for the counter, 7.8 us for the histogram (timeit),
        # twice per request (py-spy: 1.8 % of a check's event loop); the loop's metrics
        # (loop_metrics.py) still convert their values. The children are kept by label
        # values; there are as many as the registry holds.
        self._counted: dict[tuple[str, str, str], LoopCounterChild] = {}
        self._timed: dict[tuple[str, str], LoopHistogramChild] = {}
        # Why: a log call filtered out by the level still runs structlog's bound logger
        # and its first processor (7.4 us, 1.8 % of the event loop at WARNING); the
        # level is asked of the same stdlib logger that processor (`by_level`) asks.
        self._stdlib_log = logging.getLogger(LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = causation = b""
        for name, value in scope["headers"]:
            if name == b"x-correlation-id":
                given = value
            elif name == b"x-causation-id":
                causation = value
        # uuid4().hex's form, without the UUID object
        cid = (given.decode("latin-1") or hex32())[:100]
        status = 500
        id_header = (b"x-correlation-id", cid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            await send(message)

        tokens = event_ids(cid, causation.decode("latin-1")[:100] or None)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            # the route's template, never the raw path: paths carry identity numbers
            path = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            if path not in QUIET_ROUTES and self._stdlib_log.isEnabledFor(logging.INFO):
                ms = round(seconds * 1000, 2)
                log.info("request", method=method, route=path, status=status, ms=ms)
            reset_event_ids(tokens)
            self._count(method, path, status).inc()
            self._timer(method, path).observe(seconds)
            if path == CHECK_ROUTE and method == "POST":
                self.backbone.check_seconds.observe(seconds)

    def _count(self, method: str, path: str, status: int) -> LoopCounterChild:
        key = (method, path, str(status))
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted[key] = self.requests.labels(*key)
        return counter

    def _timer(self, method: str, path: str) -> LoopHistogramChild:
        key = (method, path)
        timer = self._timed.get(key)
        if timer is None:
            timer = self._timed[key] = self.latency.labels(*key)
        return timer
