"""The tables every service's schema has — consumer offsets, the outbox,
Idempotency-Key answers — as migration operations, written once for every history
in migrations/<service>/versions.

Frozen: each function creates the table exactly as the first migrations did (the
`_v1` shape); a later change to a table is a new migration with its own operations,
never an edit here, since applied migrations must keep doing what they did. The
runtime declarations the services use are beside their adapters
(`offsets_table`, `outbox_table`, `idempotency_table`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def create_consumer_offsets_v1() -> None:
    op.create_table(
        "consumer_offsets",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "topic", "partition"),
    )


def drop_consumer_offsets() -> None:
    op.drop_table("consumer_offsets")


def create_idempotency_keys_v1() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("principal", "key"),
    )


def drop_idempotency_keys() -> None:
    op.drop_table("idempotency_keys")


def create_outbox_v1() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column(
            "headers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "outbox_unpublished",
        "outbox",
        ["id"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )


def drop_outbox() -> None:
    op.drop_index(
        "outbox_unpublished", table_name="outbox", postgresql_where=sa.text("published_at IS NULL")
    )
    op.drop_table("outbox")


def set_compression(columns: tuple[tuple[str, str], ...], method: str) -> None:
    """Compress the (table, column)s' stored values (TOAST) with `method` from now on
    (values stored before keep theirs; both read alike). A server built without lz4
    keeps its compression: the change is skipped, not failed (the services' integration
    tests check that lz4 took, so a server without it shows there)."""
    for table, column in columns:
        op.execute(
            "DO $$ BEGIN"
            f" ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method};"
            " EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;"
            " END $$"
        )
