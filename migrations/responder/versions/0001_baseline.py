"""baseline

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

from shared.adapters import migration_ops as shared

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    shared.create_consumer_offsets_v1()
    shared.create_outbox_v1()


def downgrade() -> None:
    shared.drop_outbox()
    shared.drop_consumer_offsets()
