"""The initiator's tables: its lifecycle streams, indexes, outbox and idempotency keys."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
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
