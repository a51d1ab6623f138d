"""The ledger's tables (schema chosen by the engine's search_path). The database
side of append-only (trigger, grants) is in migrations/ledger/.

`events` is the record; everything else except `outbox`, `consumer_offsets` and
`projection_queue` is a projection: a pure function of the events
(services/ledger/read_models/rows.py), kept up to date by the projector a moment
after ingest (services/ledger/projector.py), and rebuildable with `jsb ledger
rebuild`. The lookups (`subject_lookup`, `designation_lookup`) are written in the
ingest transaction itself, so that finding a subject never waits for the projector.
Projection rows are keyed by subject so that one subject's rows are replaced
together.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.adapters.consumer import offsets_table
from shared.adapters.outbox import outbox_table

metadata = MetaData()


def _at(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


events = Table(
    "events",
    metadata,
    Column("position", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("stream", Text, nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column(
        "recorded_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.clock_timestamp(),
    ),
    Column("source_topic", Text),
    Column("source_partition", Integer),
    Column("source_offset", BigInteger),
    Column("payload", JSONB, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    UniqueConstraint("stream", "stream_version", name="events_stream_version"),
)

# --- projections -------------------------------------------------------------------

subject_status = Table(
    "subject_status",
    metadata,
    Column("subject_id", Text, primary_key=True),
    Column("subject_kind", Text),
    _at("as_of", nullable=False),  # the instant of the last change (see read_models/rows.py)
    Column("head_position", BigInteger, nullable=False),
    Column("head_event_id", UUID(as_uuid=True), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("restricted", Boolean, nullable=False),
    Column("status", JSONB, nullable=False),
)

subject_identifiers = Table(
    "subject_identifiers",
    metadata,
    Column("identifier", Text, primary_key=True),
    Column("subject_id", Text, primary_key=True),
    Index("subject_identifiers_subject", "subject_id"),
)

designations = Table(
    "designations",
    metadata,
    Column("subject_id", Text, primary_key=True),
    Column("designation_id", UUID(as_uuid=True), primary_key=True),
    Column("subject_kind", Text, nullable=False),
    Column("list_type", Text, nullable=False),
    Column("polarity", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("designated_by", Text, nullable=False),
    Column("departments", ARRAY(Text), nullable=False),
    Column("published", Boolean, nullable=False),
    _at("issued_at", nullable=False),
    Column("state", Text, nullable=False),
    _at("in_force_from"),
    _at("in_force_until"),
    Column("view", JSONB, nullable=False),
    Index("designations_id", "designation_id"),
    Index("designations_designated_by", "designated_by"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("subject_id", Text, primary_key=True),
    Column("designation_id", UUID(as_uuid=True), primary_key=True),
    Column("measure", Text, primary_key=True),
    Column("department", Text, primary_key=True),
    Column("designated_by", Text, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("mandatory", Boolean, nullable=False),
    Column("state", Text, nullable=False),
    _at("issued_at", nullable=False),
    _at("answered_at"),
    _at("overdue_from"),
    _at("overdue_until"),
    Index("tasks_department", "department"),
)

public_entries = Table(
    "public_entries",
    metadata,
    Column("subject_id", Text, primary_key=True),
    Column("designation_id", UUID(as_uuid=True), primary_key=True),
    Column("visible_from", DateTime(timezone=True), primary_key=True),
    Column("list_type", Text, nullable=False),
    _at("visible_until"),
    _at("issued_at", nullable=False),
    Column("entry", JSONB, nullable=False),
    Index("public_entries_list", "list_type", "visible_from"),
)
# `visible_from` is part of the key: one entry may be shown in several windows (an
# incentive hidden while a sanction is in force and shown again after it).

PROJECTIONS: tuple[Table, ...] = (
    subject_status,
    subject_identifiers,
    designations,
    tasks,
    public_entries,
)
"""Every table rebuilt from the events alone (in dependency-free order)."""

# --- what ingest writes beside the events (services/ledger/projector.py) ------------

projection_queue = Table(
    "projection_queue",
    metadata,
    Column("subject_id", Text, primary_key=True),
    Column("last_position", BigInteger, nullable=False),
    _at("queued_at", nullable=False),
    Column("touch_order", Integer, nullable=False),
    Column(
        "touched_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.statement_timestamp(),
    ),
    Index("projection_queue_age", "queued_at"),
)
"""Subjects whose projection rows are behind their events: `last_position` is the
latest event ingest appended for the subject, `queued_at` when it was first queued
(kept by later batches: the oldest goes first, so none starves), `touch_order` its
place among the subjects its batch queued (the order of their first events),
`touched_at` when a batch last queued it (the projector waits for a quiet subject,
migration 0006)."""

subject_lookup = Table(
    "subject_lookup",
    metadata,
    Column("identifier", Text, primary_key=True),
    Column("subject_id", Text, primary_key=True),
)
"""Identifier → subject, written by ingest from the designations it appends (the same
keys as `subject_identifiers`, without waiting for the projection: lookup.py)."""

designation_lookup = Table(
    "designation_lookup",
    metadata,
    Column("designation_id", UUID(as_uuid=True), primary_key=True),
    Column("subject_id", Text, primary_key=True),
)
"""Designation → subject, written by ingest (GET /v1/designations/{id})."""

LOOKUPS: tuple[Table, ...] = (subject_lookup, designation_lookup)
"""Written in the ingest transaction, refilled by a rebuild; insert-only otherwise."""

snapshots = Table(
    "snapshots",
    metadata,
    Column("stream", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("hash", Text, nullable=False),
    _at("latest_effective", nullable=False),
    _at("latest_recorded", nullable=False),
    Column("codec", Text, nullable=False),
    Column("state", LargeBinary, nullable=False),
)
"""A stream's fold every K events, written by the projector (services/ledger/
stored_snapshots.py, migration 0007): a cache of the events that never changes what a
read answers (snapshot_store.py); `jsb ledger rebuild` leaves it."""

outbox = outbox_table(metadata)
consumer_offsets = offsets_table(metadata)
