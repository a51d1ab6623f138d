"""projections

The ledger's read models (services/ledger/tables.py): subject status, identifiers,
designations, tasks and public entries. All are a function of `events` alone and are
rebuilt by `jsb ledger rebuild`; the service role may delete and insert them (the
default grants), never update or delete `events` (0001 and ledger_grants).

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
        "designations",
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("subject_kind", sa.Text(), nullable=False),
        sa.Column("list_type", sa.Text(), nullable=False),
        sa.Column("polarity", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("designated_by", sa.Text(), nullable=False),
        sa.Column("departments", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("in_force_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_force_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("view", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "designation_id"),
    )
    op.create_index("designations_designated_by", "designations", ["designated_by"], unique=False)
    op.create_index("designations_id", "designations", ["designation_id"], unique=False)
    op.create_table(
        "public_entries",
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("visible_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("list_type", sa.Text(), nullable=False),
        sa.Column("visible_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "designation_id", "visible_from"),
    )
    op.create_index(
        "public_entries_list", "public_entries", ["list_type", "visible_from"], unique=False
    )
    op.create_table(
        "subject_identifiers",
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("identifier", "subject_id"),
    )
    op.create_index(
        "subject_identifiers_subject", "subject_identifiers", ["subject_id"], unique=False
    )
    op.create_table(
        "subject_status",
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("subject_kind", sa.Text(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("head_position", sa.BigInteger(), nullable=False),
        sa.Column("head_event_id", sa.UUID(), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("status", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("subject_id"),
    )
    op.create_table(
        "tasks",
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("designated_by", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", "designation_id", "measure", "department"),
    )
    op.create_index("tasks_department", "tasks", ["department"], unique=False)


def downgrade() -> None:
    op.drop_index("tasks_department", table_name="tasks")
    op.drop_table("tasks")
    op.drop_table("subject_status")
    op.drop_index("subject_identifiers_subject", table_name="subject_identifiers")
    op.drop_table("subject_identifiers")
    op.drop_index("public_entries_list", table_name="public_entries")
    op.drop_table("public_entries")
    op.drop_index("designations_id", table_name="designations")
    op.drop_index("designations_designated_by", table_name="designations")
    op.drop_table("designations")
