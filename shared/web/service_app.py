"""What every service's HTTP app has: health, readiness, Prometheus metrics,
problem documents, tokens. A service adds its routers and its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
)

from shared.adapters.loop_metrics import LoopCounter, LoopHistogram
from shared.adapters.observability import (
    BackboneMetrics,
    configure_logging,
)
from shared.adapters.settings import ServiceSettings
from shared.web.auth import TokenRegistry
from shared.web.body_guard import JsonBodyGuard
from shared.web.measure import RequestMeasure
from shared.web.openapi_problems import document_problems
from shared.web.problems import install_problem_handlers

ReadinessCheck = Callable[[], Awaitable[None]]
NO_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's native OpenTelemetry instrumentation, off: the services report through
Prometheus metrics and JSON logs carrying correlation ids (docs/observability.md), and
left on, FastAPI looked the OpenTelemetry providers up (in `os.environ`) on every
request, 2.0 % of a check's event loop (py-spy, docs/benchmarks.md "Checks")."""
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def request_metrics(registry: CollectorRegistry) -> tuple[LoopCounter, LoopHistogram]:
    """The HTTP metrics the request measure fills (shared/web/measure.py): changed by
    every request, from the event loop, so the loop's own kind (loop_metrics.py)."""
    requests = LoopCounter(
        "http_requests", "HTTP requests served", ["method", "route", "status"], registry=registry
    )
    latency = LoopHistogram(
        "http_request_seconds", "HTTP request latency", ["method", "route"], registry=registry
    )
    return requests, latency


def create_service_app(
    *,
    name: str,
    settings: ServiceSettings,
    lifespan: Lifespan,
    description: str = "",
) -> FastAPI:
    registry = CollectorRegistry()
    requests, latency = request_metrics(registry)

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(name, settings.log_level)
        app.state.tokens = TokenRegistry.from_file(
            settings.token_hashes_file or settings.tokens_file
        )
        async with lifespan(app):
            yield

    app = FastAPI(
        title=f"jsb {name}",
        description=description,
        version="1",
        lifespan=_lifespan,
        telemetry=NO_OPENTELEMETRY,
    )
    app.state.settings = settings
    app.state.metrics = registry
    app.state.backbone_metrics = backbone = BackboneMetrics(registry)
    app.state.readiness = {}
    install_problem_handlers(app)
    document_problems(app)

    app.add_middleware(JsonBodyGuard)  # inside the measure: its refusals are measured too
    app.add_middleware(RequestMeasure, requests=requests, latency=latency, backbone=backbone)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok", "service": name}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        """Kafka and Postgres are reachable (503 with the reason otherwise)."""
        checks: dict[str, ReadinessCheck] = app.state.readiness
        results: dict[str, Any] = {}
        ok = True
        for check_name, check in checks.items():
            try:
                await asyncio.wait_for(check(), 5.0)
                results[check_name] = "ok"
            except Exception as exc:  # the reason is the answer
                ok = False
                results[check_name] = f"unavailable: {type(exc).__name__}: {exc}"[:300]
        body = {"status": "ready" if ok else "not ready", "service": name, "checks": results}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
