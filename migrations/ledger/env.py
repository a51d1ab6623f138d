"""Alembic environment of the ledger's schema (see shared/adapters/migrations.py)."""

from alembic import context

from services.ledger.tables import metadata
from shared.adapters.migrations import ServiceMigrations, ledger_grants, run_env

run_env(context, ServiceMigrations(metadata=metadata, grants=ledger_grants))
