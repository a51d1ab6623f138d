"""drop unused consumer_offsets

The notifier consumes no topic: the table its baseline created was never used
(issue 10). A service that starts consuming adds it back in a migration of its own.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from shared.adapters import migration_ops as shared

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    shared.drop_consumer_offsets()


def downgrade() -> None:
    shared.create_consumer_offsets_v1()
