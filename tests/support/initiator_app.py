"""The initiator app in the test's own process, on the real Kafka and Postgres (fresh
schema and topics): its lifespan runs (relay, timer loop), HTTP goes through ASGI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.initiator.app import create_app
from services.initiator.settings import InitiatorSettings
from shared.cli.stack_cmd import department_codes
from tests.support.infra import Infra


@dataclass
class Running:
    app: FastAPI

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.app.state.engine
        return engine

    def client(self, as_: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://initiator",
            headers={"Authorization": f"Bearer tok-{as_}"},
            timeout=120,
        )

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []


def settings_for(
    infra: Infra, topic_suffix: str, schema_suffix: str, workdir: Path, **overrides: Any
) -> InitiatorSettings:
    tokens = workdir / "tokens.json"
    tokens.write_text(json.dumps({n: f"tok-{n}" for n in [*department_codes(), "ops", "auditor"]}))
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": infra.kafka,
        "database_url": infra.database_url,
        "tokens_file": tokens,
        "topic_suffix": topic_suffix,
        "db_schema": "initiator" + schema_suffix,
        "timer_poll_s": 0.1,
        "ledger_url": "http://127.0.0.1:9",  # no ledger: incentives are refused with 503
        **overrides,
    }
    return InitiatorSettings(**values)


@asynccontextmanager
async def running_initiator(settings: InitiatorSettings) -> AsyncIterator[Running]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield Running(app)
