"""snapshots: a subject's fold stored every K events

The projector stores the fold of a long stream's first K, 2K, ... events
(services/ledger/stored_snapshots.py); a status read, or a refresh the fold cache
misses, starts from the newest one it may use and folds only the events after it.
A cache of the events: rows never change what a read answers, deleting them only
costs speed. The states (JSON, ~0.2 MB per 100 designations) compressed with lz4 as
the status documents (0005).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.adapters import migration_ops as shared

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("stream", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("latest_effective", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_recorded", sa.DateTime(timezone=True), nullable=False),
        sa.Column("codec", sa.Text(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("stream", "version"),
    )
    shared.set_compression((("snapshots", "state"),), "lz4")


def downgrade() -> None:
    op.drop_table("snapshots")
