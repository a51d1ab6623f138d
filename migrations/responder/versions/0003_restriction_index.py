"""restriction index for checks (one lookup per check), indexed subjects

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indexed_subjects",
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id"),
    )
    op.create_table(
        "restriction_index",
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("designation_id", sa.UUID(), nullable=False),
        sa.Column("list_type", sa.Text(), nullable=False),
        sa.Column("active_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ordinal", sa.Integer(), nullable=False),
    )
    op.create_index(
        "restriction_index_lookup",
        "restriction_index",
        ["subject_id", "department", "measure"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("restriction_index_lookup", table_name="restriction_index")
    op.drop_table("restriction_index")
    op.drop_table("indexed_subjects")
