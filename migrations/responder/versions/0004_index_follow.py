"""indexes for following the restriction index written by other instances

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("indexed_subjects_position", "indexed_subjects", ["position"], unique=False)
    op.create_index(
        "subject_identifiers_subject", "subject_identifiers", ["subject_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("subject_identifiers_subject", table_name="subject_identifiers")
    op.drop_index("indexed_subjects_position", table_name="indexed_subjects")
