"""The responder's tables (declared without a schema: the engine's search_path picks it).

Two stages, each exactly once in effect (see docs/responder.md):

- ingest: one Kafka consumer stores the designation events that concern a hosted
  department in `designation_events` (the local store the checks fold), indexes the
  subject's identifiers, and writes one `deliveries` row per concerned department —
  with the Kafka offsets, in one transaction;
- departments: each department applies its own deliveries in order, moving its own
  cursor (`departments.position`) in the transaction that changes its `tasks` and
  writes its feedback to the `outbox`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB, UUID

from shared.adapters.consumer import offsets_table
from shared.adapters.idempotency import idempotency_table
from shared.adapters.outbox import outbox_table

metadata = MetaData()

outbox = outbox_table(metadata)
consumer_offsets = offsets_table(metadata)
idempotency = idempotency_table(metadata)

# The lifecycle events of every designation that concerns a hosted department, in
# the order they were ingested (per subject: Kafka's order). `position` orders the
# deliveries; the ingest serialises its transactions so positions commit in order.
# The envelope is `json` (its text as received) compressed with lz4, not `jsonb`:
# nothing queries inside it, and the server's jsonb parse and pglz were ~450 µs of
# its CPU per court designation (migration 0005).
designation_events = Table(
    "designation_events",
    metadata,
    Column("position", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("subject_id", Text, nullable=False),
    Column("designation_id", UUID(as_uuid=True), nullable=False),
    Column("type", Text, nullable=False),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("envelope", JSON, nullable=False),
    Column("source_partition", Integer, nullable=False),
    Column("source_offset", BigInteger, nullable=False),
    Column(
        "ingested_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.clock_timestamp(),
    ),
    Index("designation_events_subject", "subject_id", "position"),
)

# The designations kept, with the hosted departments they concern (grows when an
# amendment gives a hosted department a measure: its tasks must be created, and
# the removed ones of others lifted, so nobody is ever dropped from this list).
designations = Table(
    "designations",
    metadata,
    Column("designation_id", UUID(as_uuid=True), primary_key=True),
    Column("subject_id", Text, nullable=False),
    Column("departments", ARRAY(Text), nullable=False),
)

# One row per (department, event) the department must apply: its reading list.
deliveries = Table(
    "deliveries",
    metadata,
    Column("department", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True),
)

# Any identifier of a subject → the subject id its events are kept under.
subject_identifiers = Table(
    "subject_identifiers",
    metadata,
    Column("identifier", Text, primary_key=True),
    Column("subject_id", Text, primary_key=True),
    Index("subject_identifiers_subject", "subject_id"),
)

# Each hosted department's progress: the last delivery position it applied. Its row
# is locked FOR UPDATE by the transaction that applies the next deliveries, so two
# instances hosting the same department take turns instead of both applying.
departments = Table(
    "departments",
    metadata,
    Column("department", Text, primary_key=True),
    Column("position", BigInteger, nullable=False, server_default=text("0")),
    Column("applied_at", DateTime(timezone=True)),
)

# A department's task per (designation, measure): its execution state, and when
# the clock may next change it (`wake_at`: expiry, end of a measure's own duration).
# One per (department, designation, measure) by its key: the task id is uuid5 of the
# three (task_ids.py). A pass finds a department's tasks by designation
# (`tasks_designation`; migration 0005 says why not a unique index of the three).
tasks = Table(
    "tasks",
    metadata,
    Column("task_id", UUID(as_uuid=True), primary_key=True),
    Column("department", Text, nullable=False),
    Column("designation_id", UUID(as_uuid=True), nullable=False),
    Column("measure", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("subject_name", Text, nullable=False),
    Column("list_type", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("resume_to", Text),
    Column("mandatory", Boolean, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("wake_at", DateTime(timezone=True)),
    Column("last_event_id", UUID(as_uuid=True)),
    # The lifecycle event this department last applied to the task's designation
    # (type `clock` when the clock alone re-evaluated it).
    Column("last_event_type", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=text("''")),
    Column("answered_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("tasks_designation", "designation_id", "department"),
    Index("tasks_inbox", "department", "state", "created_at"),
    Index("tasks_wake", "department", "wake_at", postgresql_where=text("wake_at IS NOT NULL")),
)

# Every check a department made (应查必查), with what it answered and why.
checks = Table(
    "checks",
    metadata,
    Column("check_id", UUID(as_uuid=True), primary_key=True),
    Column("department", Text, nullable=False),
    Column("identifier", Text, nullable=False),
    Column("subject_ids", ARRAY(Text), nullable=False),
    Column("measures", ARRAY(Text), nullable=False),
    Column("action", Text),
    Column("decision", Text, nullable=False),
    Column("reasons", JSONB, nullable=False),
    Column("data_fresh_as_of", DateTime(timezone=True)),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Index("checks_department", "department", "checked_at"),
)

# When the ingest last knew it had everything the broker had (survives restarts, so
# a responder started while Kafka is down still says how old its data is).
ingest_progress = Table(
    "ingest_progress",
    metadata,
    Column("consumer", Text, primary_key=True),
    Column("caught_up_at", DateTime(timezone=True), nullable=False),
)

# What each hosted department must block, per subject, as intervals of time (see
# services/responder/restriction_index.py): rewritten by the ingest for every subject
# whose events change, read by every check (one index lookup, no fold per request).
restriction_index = Table(
    "restriction_index",
    metadata,
    Column("subject_id", Text, nullable=False),
    Column("department", Text, nullable=False),
    Column("measure", Text, nullable=False),
    Column("designation_id", UUID(as_uuid=True), nullable=False),
    Column("list_type", Text, nullable=False),
    Column("active_from", DateTime(timezone=True), nullable=False),
    Column("active_until", DateTime(timezone=True)),
    Column("ordinal", Integer, nullable=False),
    Index("restriction_index_lookup", "subject_id", "department", "measure"),
)

# Per subject, the last stored event its index rows were computed from. A subject with
# events beyond it (data stored before the index existed) is indexed at start-up, and
# checks fold until that catch-up is done.
indexed_subjects = Table(
    "indexed_subjects",
    metadata,
    Column("subject_id", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
    # Another instance's index changes are found by position (live_index.follow).
    Index("indexed_subjects_position", "position"),
)
