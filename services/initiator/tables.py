"""The initiator's tables: its lifecycle streams, indexes, outbox and idempotency keys."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.adapters.idempotency import idempotency_table
from shared.adapters.outbox import outbox_table

metadata = MetaData()

outbox = outbox_table(metadata)

idempotency = idempotency_table(metadata)


# The initiator's own record of the lifecycle events it decided, one stream per
# subject. `decide` folds a subject's stream; the unique (subject, version) pair
# is the optimistic lock: two commands on one subject cannot both append.
lifecycle_events = Table(
    "lifecycle_events",
    metadata,
    Column("position", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("subject_id", Text, nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", Text, nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column(
        "recorded_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.clock_timestamp(),
    ),
    UniqueConstraint("subject_id", "stream_version", name="lifecycle_events_stream_version"),
)

# Where a designation or an objection lives: commands name them by id.
designation_index = Table(
    "designation_index",
    metadata,
    Column("designation_id", UUID(as_uuid=True), primary_key=True),
    Column("subject_id", Text, nullable=False),
    Column("designated_by", Text, nullable=False),
    Column("list_type", Text, nullable=False),
)

objection_index = Table(
    "objection_index",
    metadata,
    Column("objection_id", UUID(as_uuid=True), primary_key=True),
    Column("designation_id", UUID(as_uuid=True), nullable=False),
    Column("subject_id", Text, nullable=False),
)

# Timers (issue 5 §4): what the initiator must do by itself at a given instant
# (expire a period, remind of an objection's deadline, open an exit window). Written
# in the transaction that appends the events creating them, so a timer exists exactly
# when its cause does, and a restart loses none. One row per (kind, target): a later
# event that moves the instant reschedules the row instead of adding another.
timers = Table(
    "timers",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("designation_id", UUID(as_uuid=True), nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("department", Text, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("done_at", DateTime(timezone=True)),
    Column("outcome", Text),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    UniqueConstraint("kind", "target_id", name="timers_kind_target"),
    Index("timers_due", "due_at", postgresql_where=text("done_at IS NULL")),
    Index("timers_designation", "designation_id"),
)
