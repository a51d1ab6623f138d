"""department lanes, local store, tasks and checks

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.adapters import migration_ops as shared

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checks",
        sa.Column("check_id", sa.UUID(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("subject_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("measures", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("data_fresh_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("check_id"),
    )
    op.create_index("checks_department", "checks", ["department", "checked_at"], unique=False)
    op.create_table(
        "deliveries",
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("department", "position"),
    )
    op.create_table(
        "departments",
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("position", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("department"),
    )
    op.create_table(
        "designation_events",
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_partition", sa.Integer(), nullable=False),
        sa.Column("source_offset", sa.BigInteger(), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(
        "designation_events_subject", "designation_events", ["subject_id", "position"], unique=False
    )
    op.create_table(
        "designations",
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("departments", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("designation_id"),
    )
    shared.create_idempotency_keys_v1()
    op.create_table(
        "ingest_progress",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("caught_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer"),
    )
    op.create_table(
        "subject_identifiers",
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("identifier", "subject_id"),
    )
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.UUID(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("subject_name", sa.Text(), nullable=False),
        sa.Column("list_type", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("resume_to", sa.Text(), nullable=True),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("wake_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_id", sa.UUID(), nullable=True),
        sa.Column("last_event_type", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("task_id"),
        sa.UniqueConstraint(
            "department", "designation_id", "measure", name="tasks_department_measure"
        ),
    )
    op.create_index("tasks_inbox", "tasks", ["department", "state", "created_at"], unique=False)
    op.create_index(
        "tasks_wake",
        "tasks",
        ["department", "wake_at"],
        unique=False,
        postgresql_where=sa.text("wake_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("tasks_wake", table_name="tasks", postgresql_where=sa.text("wake_at IS NOT NULL"))
    op.drop_index("tasks_inbox", table_name="tasks")
    op.drop_table("tasks")
    op.drop_table("subject_identifiers")
    op.drop_table("ingest_progress")
    shared.drop_idempotency_keys()
    op.drop_table("designations")
    op.drop_index("designation_events_subject", table_name="designation_events")
    op.drop_table("designation_events")
    op.drop_table("departments")
    op.drop_table("deliveries")
    op.drop_index("checks_department", table_name="checks")
    op.drop_table("checks")
