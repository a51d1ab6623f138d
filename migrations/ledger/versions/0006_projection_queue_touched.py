"""projection queue: when a subject was last queued (`touched_at`)

The projector takes a subject once it has been quiet for the projection delay (no
batch has queued it again for that long), or once it has waited the bound since it
was first queued (`queued_at`, unchanged): a court designation's issue and the
answers that follow it within the delay then share one refresh
(services/ledger/projector.py). Rows queued before this revision count as touched
when they were queued; code that does not set the column gets the statement's time.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "projection_queue",
        sa.Column(
            "touched_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("statement_timestamp()"),
        ),
    )
    op.execute("UPDATE projection_queue SET touched_at = queued_at")


def downgrade() -> None:
    op.drop_column("projection_queue", "touched_at")
