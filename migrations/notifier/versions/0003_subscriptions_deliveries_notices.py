"""subscriptions, deliveries, notices (issue 14)

The notifier starts consuming jsb.status.v1 (its offsets table is the baseline's):
Idempotency-Key answers, the status log, subscriptions and their encrypted secrets,
deliveries, notices, the deadlines it watches and interception counts.

Revision ID: 0003
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.adapters import migration_ops as shared

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
NOW = sa.text("now()")


def upgrade() -> None:
    shared.create_idempotency_keys_v1()
    op.create_table(
        "status_log",
        sa.Column("position", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("message_id", postgresql.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("facets", postgresql.JSONB(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", TZ, nullable=False, server_default=NOW),
    )
    op.create_index("ix_status_log_subject_id", "status_log", ["subject_id"])
    op.create_index("ix_status_log_received_at", "status_log", ["received_at"])
    op.create_table(
        "subject_latest",
        sa.Column("subject_id", sa.Text(), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("status", postgresql.JSONB(), nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("filters", postgresql.JSONB(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("rate_limit_per_s", sa.Float(), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("failing_since", TZ, nullable=True),
        sa.Column("disabled_at", TZ, nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    )
    op.create_table(
        "subscription_secrets",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("subscription_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
        sa.Column("expires_at", TZ, nullable=True),
    )
    op.create_index(
        "ix_subscription_secrets_subscription_id", "subscription_secrets", ["subscription_id"]
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("subscription_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TZ, nullable=False, server_default=NOW),
        sa.Column("lease_until", TZ, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.text("clock_timestamp()")),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.UniqueConstraint("subscription_id", "position", name="deliveries_once"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["subscription_id", "state", "position"])
    op.create_index("ix_deliveries_subject", "deliveries", ["subscription_id", "subject_id"])
    op.create_table(
        "notices",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("dedup_key", sa.Text(), nullable=False, unique=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=True),
        sa.Column("designation_id", sa.Text(), nullable=True),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    )
    op.create_index("ix_notices_subject_id", "notices", ["subject_id"])
    op.create_table(
        "watch",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column("designation_id", sa.Text(), nullable=False),
        sa.Column("department", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
    )
    op.create_index("ix_watch_subject_id", "watch", ["subject_id"])
    op.create_table(
        "interceptions",
        sa.Column("month", sa.Text(), primary_key=True),
        sa.Column("measure", sa.Text(), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "interceptions",
        "watch",
        "notices",
        "deliveries",
        "subscription_secrets",
        "subscriptions",
        "subject_latest",
        "status_log",
    ):
        op.drop_table(table)
    shared.drop_idempotency_keys()
