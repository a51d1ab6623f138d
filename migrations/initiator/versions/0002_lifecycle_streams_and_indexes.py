"""lifecycle streams and indexes

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "designation_index",
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("designated_by", sa.Text(), nullable=False),
        sa.Column("list_type", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("designation_id"),
    )
    op.create_table(
        "lifecycle_events",
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("subject_id", "stream_version", name="lifecycle_events_stream_version"),
    )
    op.create_table(
        "objection_index",
        sa.Column("objection_id", sa.UUID(), nullable=False),
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("objection_id"),
    )


def downgrade() -> None:
    op.drop_table("objection_index")
    op.drop_table("lifecycle_events")
    op.drop_table("designation_index")
