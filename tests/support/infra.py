"""Where the tests find the real Kafka and Postgres.

1. `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` (and `DATABASE_ADMIN_URL`) from the
   environment when given;
2. otherwise containers, when a Docker engine answers (testcontainers);
3. otherwise the local stack that `make test` starts (its defaults).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared.adapters.migrations import DEFAULT_ADMIN_URL
from shared.adapters.settings import DEFAULT_DATABASE_URL, DEFAULT_KAFKA


@dataclass(frozen=True)
class Infra:
    kafka: str
    database_url: str
    """The services' role (no UPDATE/DELETE on the ledger's events)."""
    admin_url: str
    """A role that may create schemas (and, in tests, tamper like a superuser)."""
    service_role: str | None
    origin: str


def docker_engine_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@contextmanager
def discover() -> Iterator[Infra]:
    env = os.environ
    if env.get("KAFKA_BOOTSTRAP_SERVERS") and env.get("DATABASE_URL"):
        yield Infra(
            kafka=env["KAFKA_BOOTSTRAP_SERVERS"],
            database_url=env["DATABASE_URL"],
            admin_url=env.get("DATABASE_ADMIN_URL", env["DATABASE_URL"]),
            service_role=env.get("JSB_SERVICE_ROLE", "jsb"),
            origin="environment",
        )
    elif docker_engine_answers():  # pragma: no cover - no Docker engine on the dev machines
        with _containers() as infra:
            yield infra
    else:
        yield Infra(DEFAULT_KAFKA, DEFAULT_DATABASE_URL, DEFAULT_ADMIN_URL, "jsb", "local stack")


@contextmanager
def _containers() -> Iterator[Infra]:  # pragma: no cover - needs a Docker engine
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka,
        PostgresContainer("postgres:15", driver="asyncpg") as pg,
    ):
        url = pg.get_connection_url()
        yield Infra(kafka.get_bootstrap_server(), url, url, None, "testcontainers")


ISSUED: set[str] = set()
"""Every id `unique` gave out in this process: the session deletes the topics named
with them when it ends (`tests.support.topic_cleanup`)."""


def unique(prefix: str = "t") -> str:
    """A fresh id for a test's own topics, schemas and consumer groups."""
    made = f"{prefix}{secrets.token_hex(4)}"
    ISSUED.add(made)
    return made
