"""A request to a service app asks nothing of OpenTelemetry: FastAPI's native
instrumentation is off (the services report through Prometheus and JSON logs), and
left on it looked the providers up in `os.environ` on every request (2 % of a check)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import _logs, metrics, trace

from shared.adapters.settings import ServiceSettings
from shared.web.service_app import create_service_app


@asynccontextmanager
async def _nothing(app: FastAPI) -> AsyncIterator[None]:
    yield


async def test_a_request_looks_up_no_opentelemetry_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    for module, name in (
        (trace, "get_tracer_provider"),
        (metrics, "get_meter_provider"),
        (_logs, "get_logger_provider"),
    ):
        real = getattr(module, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            asked.append(_name)
            return _real(*args, **kw)

        monkeypatch.setattr(module, name, counted)
    app = create_service_app(name="otel", settings=ServiceSettings(), lifespan=_nothing)

    @app.post("/items")
    async def create(item: dict[str, int]) -> dict[str, int]:
        return item

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://otel") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.post("/items", json={"a": 1})).json() == {"a": 1}
    assert asked == []
