"""projection queue and lookups: projections move off the append path

Ingest appends the events and queues the subjects they touch (`projection_queue`);
the projector (services/ledger/projector.py) refreshes their projection rows a
moment later, coalescing the batches that arrived meanwhile. What a read must find
at once is written by ingest itself: identifier → subject (`subject_lookup`) and
designation → subject (`designation_lookup`), filled here from the projections that
exist.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "projection_queue",
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("touch_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id"),
    )
    op.create_index("projection_queue_age", "projection_queue", ["queued_at"], unique=False)
    op.create_table(
        "subject_lookup",
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("identifier", "subject_id"),
    )
    op.create_table(
        "designation_lookup",
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("designation_id", "subject_id"),
    )
    op.execute(
        "INSERT INTO subject_lookup (identifier, subject_id)"
        " SELECT identifier, subject_id FROM subject_identifiers"
    )
    op.execute(
        "INSERT INTO designation_lookup (designation_id, subject_id)"
        " SELECT designation_id, subject_id FROM designations"
    )


def downgrade() -> None:
    op.drop_table("designation_lookup")
    op.drop_table("subject_lookup")
    op.drop_index("projection_queue_age", table_name="projection_queue")
    op.drop_table("projection_queue")
