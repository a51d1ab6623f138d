"""Alembic environment of the initiator's schema (see shared/adapters/migrations.py)."""

from alembic import context

from services.initiator.tables import metadata
from shared.adapters.migrations import ServiceMigrations, default_grants, run_env

run_env(context, ServiceMigrations(metadata=metadata, grants=default_grants))
