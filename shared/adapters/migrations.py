"""Schema migrations (Alembic), one history per service, each in its own schema.

`migrations/<service>/` holds a service's history; its version table lives in the
service's schema, so one history can be applied to `ledger` and, in a test, to a
fresh `ledger_t1a2b3` alike. After an upgrade the service role gets what the
service needs (a service's env may take rights away again: the ledger's events).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.adapters.settings import PROJECT_ROOT

SERVICES = ("initiator", "responder", "ledger", "notifier")
DEFAULT_ADMIN_URL = "postgresql+asyncpg://jsb_admin@127.0.0.1:55432/jsb"
"""No password in a default (shared/adapters/settings.py says where it comes from)."""


@dataclass(frozen=True)
class ServiceMigrations:
    """What a service's `migrations/<service>/env.py` hands to `run_env`."""

    metadata: MetaData
    grants: Callable[[str, str], list[str]]


def default_grants(schema: str, role: str) -> list[str]:
    return [
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
    ]


def config(service: str, url: str, schema: str, role: str | None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations" / service))
    cfg.attributes["url"] = url
    cfg.attributes["schema"] = schema
    cfg.attributes["role"] = role
    return cfg


def upgrade(service: str, *, url: str, schema: str | None = None, role: str | None = "jsb") -> None:
    command.upgrade(config(service, url, schema or service, role), "head")


def upgrade_all(*, url: str, schema_suffix: str = "", role: str | None = "jsb") -> None:
    for service in SERVICES:
        upgrade(service, url=url, schema=service + schema_suffix, role=role)


def run_env(context, spec: ServiceMigrations) -> None:  # type: ignore[no-untyped-def]
    """Body of every service's env.py (online mode only: migrations need a database)."""
    cfg = context.config
    url: str = cfg.attributes["url"]
    schema: str = cfg.attributes["schema"]
    role: str | None = cfg.attributes.get("role")

    def do_run(conn: Connection) -> None:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        conn.execute(text(f'SET search_path TO "{schema}"'))
        conn.commit()
        context.configure(
            connection=conn,
            target_metadata=spec.metadata,
            version_table_schema=schema,
            include_object=lambda obj, name, type_, reflected, compare_to: (
                name != "alembic_version"
            ),
        )
        with context.begin_transaction():
            context.run_migrations()
        if (
            role
            and conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        ):
            for stmt in spec.grants(schema, role):
                conn.execute(text(stmt))
            conn.commit()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(main())


def ledger_grants(schema: str, role: str) -> list[str]:
    """The ledger's service role may read and append events, never change them."""
    return [
        *default_grants(schema, role),
        f'REVOKE UPDATE, DELETE, TRUNCATE ON "{schema}".events FROM "{role}"',
    ]


def autogenerate(service: str, message: str, *, url: str) -> str:
    """Write the next revision of `service` by comparing its tables with a scratch
    schema migrated to head; the scratch schema is dropped afterwards."""
    import re
    import secrets
    from pathlib import Path

    scratch = f"autogen_{service}_{secrets.token_hex(3)}"
    versions = PROJECT_ROOT / "migrations" / service / "versions"
    rev_id = f"{len(list(versions.glob('[0-9][0-9][0-9][0-9]_*.py'))) + 1:04d}"
    try:
        upgrade(service, url=url, schema=scratch, role=None)
        script = command.revision(
            config(service, url, scratch, None), message=message, autogenerate=True, rev_id=rev_id
        )
    finally:
        asyncio.run(_drop_schema(url, scratch))
    path = Path(script.path)  # type: ignore[union-attr]
    text_ = path.read_text()
    text_ = re.sub(r"\n *# ### (commands auto generated|end Alembic).*", "", text_)
    text_ = re.sub(r"\nCreate Date: .*", "", text_)
    path.write_text(text_)
    return str(path)


async def _drop_schema(url: str, schema: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()
