"""The notifier's tables (schema `notifier`; migrations/notifier/versions/0003).

- `status_log`: every status change consumed from jsb.status.v1, once (unique
  message id), numbered by `position` in consumption order. A subject is one Kafka
  partition, so its changes get increasing positions: deliveries, the live stream and
  recovery all order by it. `facets` holds what filters look at.
- `subject_latest`: the last status of each subject (to see what changed, the report).
- `subscriptions`, `subscription_secrets` (encrypted; several during a rotation).
- `deliveries`: one row per (subscription, status change); `webhook_id` fixed at
  enqueue, so every retry and every re-send after a crash carries the same one.
- `notices`: what subjects, departments and ops are told; `dedup_key` unique.
- `watch`: deadlines still running (pending tasks, open objections) for reminders.
- `interceptions`: interceptions per month and measure (growth between statuses).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.adapters.consumer import offsets_table
from shared.adapters.idempotency import idempotency_table
from shared.adapters.outbox import outbox_table

metadata = MetaData()

outbox = outbox_table(metadata)
consumer_offsets = offsets_table(metadata)
idempotency = idempotency_table(metadata)

status_log = Table(
    "status_log",
    metadata,
    Column("position", BigInteger, Identity(), primary_key=True),
    Column("message_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("subject_id", Text, nullable=False, index=True),
    Column("facets", JSONB, nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

subject_latest = Table(
    "subject_latest",
    metadata,
    Column("subject_id", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("status", JSONB, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("filters", JSONB, nullable=False),
    Column("contact", Text, nullable=True),
    Column("rate_limit_per_s", Float, nullable=True),
    Column("state", Text, nullable=False),
    Column("failing_since", DateTime(timezone=True), nullable=True),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("disabled_reason", Text, nullable=True),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

subscription_secrets = Table(
    "subscription_secrets",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("subscription_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("encrypted", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("subscription_id", UUID(as_uuid=True), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("webhook_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column(
        "created_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.clock_timestamp(),
    ),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("subscription_id", "position", name="deliveries_once"),
)

notices = Table(
    "notices",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("dedup_key", Text, nullable=False, unique=True),
    Column("kind", Text, nullable=False),
    Column("audience", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("subject_id", Text, nullable=True, index=True),
    Column("designation_id", Text, nullable=True),
    Column("department", Text, nullable=True),
    Column("deadline", Date, nullable=True),
    Column("text_zh", Text, nullable=False),
    Column("text_en", Text, nullable=False),
    Column("details", JSONB, nullable=False),
    Column("channel", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

watch = Table(
    "watch",
    metadata,
    Column("key", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("subject_id", Text, nullable=False, index=True),
    Column("designation_id", Text, nullable=False),
    Column("department", Text, nullable=False),
    Column("measure", Text, nullable=True),
    Column("deadline", Date, nullable=False),
)

interceptions = Table(
    "interceptions",
    metadata,
    Column("month", Text, primary_key=True),
    Column("measure", Text, primary_key=True),
    Column("count", BigInteger, nullable=False),
)

Index("ix_status_log_received_at", status_log.c.received_at)
Index("ix_deliveries_due", deliveries.c.subscription_id, deliveries.c.state, deliveries.c.position)
Index("ix_deliveries_subject", deliveries.c.subscription_id, deliveries.c.subject_id)
