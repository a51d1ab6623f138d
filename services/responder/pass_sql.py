"""The statements a department's pass and the ingest send for every pass and every
batch, sent straight to the asyncpg driver inside the unit's transaction.

Why not through SQLAlchemy: in the pipeline bench these few statements, run once per
pass (lock the cursor, read the deliveries, lock the tasks, the clock's due tasks,
move the cursor) or once per event (keep, append, deliver: now once per batch, each
over arrays), spent more of the
responder's event loop in SQLAlchemy (building each statement, its cache key, the
compiled parameters, the result proxy: ~15 % of busy samples, py-spy,
docs/benchmarks.md "Pipeline") than in the driver. The SQL is constant text here, so
asyncpg prepares each once per connection and keeps it.

The statements are sent on `shared.adapters.db.driver_of` (which says why it may
begin the transaction).

Why statements are merged (`KEEP`, `MOVE_CURSOR`) and the ingest's take a batch's
rows as arrays: each round trip costs the responder ~80 µs of CPU on this machine
(the driver's send and receive system calls, the event loop's wake-up), as much as
the statement's own work; a pass of a department that ends with moving its cursor,
and the ingest's keeping of a designation, did two where one statement does both, and
the ingest sent three per event (docs/benchmarks.md, "The responder's CPU per debtor
(third pass)").
"""

from __future__ import annotations

LOCK_CURSOR = "SELECT position FROM departments WHERE department = $1 FOR UPDATE"

DELIVERIES_AFTER = """
SELECT e.position, e.subject_id, e.designation_id, e.source_partition, e.source_offset
FROM designation_events e JOIN deliveries v ON v.position = e.position
WHERE v.department = $1 AND v.position > $2
ORDER BY v.position
LIMIT $3
"""

MOVE_CURSOR = """
WITH dropped AS (
    DELETE FROM deliveries WHERE department = $1 AND position > $3 AND position <= $2
)
UPDATE departments SET position = $2, applied_at = now() WHERE department = $1
"""
"""$3: the cursor the pass locked. Every delivery up to it was deleted by the pass
that moved the cursor there, and none can be committed below it later (the ingest's
lock makes positions visible in order), so the applied ones are those after it. Why
the lower bound: the deleted rows' index entries stay until a vacuum, and a delete
from the department's first position walked through all of them again on every
pass (EXPLAIN ANALYZE at 300 court designations: 400 entries visited for 100 rows
deleted after one earlier pass)."""

TASKS_FOR_UPDATE = """
SELECT task_id, designation_id, measure, mode, state, resume_to
FROM tasks
WHERE department = $1 AND designation_id = ANY($2::uuid[])
ORDER BY task_id
FOR UPDATE
"""

DUE = """
SELECT DISTINCT subject_id, designation_id FROM tasks
WHERE department = $1 AND wake_at <= $2
"""

DELIVER = """
INSERT INTO deliveries (department, position)
SELECT * FROM unnest($1::text[], $2::bigint[])
"""

DEPARTMENTS_OF = """
SELECT designation_id, departments FROM designations WHERE designation_id = ANY($1::uuid[])
"""

KEEP = """
WITH kept AS (
    INSERT INTO subject_identifiers (identifier, subject_id)
    SELECT * FROM unnest($4::text[], $5::text[])
    ON CONFLICT DO NOTHING
)
INSERT INTO designations (designation_id, subject_id, departments)
SELECT d.designation_id, d.subject_id, ARRAY(SELECT jsonb_array_elements_text(d.departments))
FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) AS d(designation_id, subject_id, departments)
ON CONFLICT (designation_id) DO NOTHING
"""
"""Departments as a JSON list each: Postgres has no array of arrays of differing
lengths to unnest."""

APPEND = """
INSERT INTO designation_events (event_id, subject_id, designation_id, type, effective_at,
                                envelope, source_partition, source_offset)
SELECT e.event_id, e.subject_id, e.designation_id, e.type, e.effective_at, e.envelope,
       e.source_partition, e.source_offset
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::timestamptz[], $6::json[],
            $7::int[], $8::bigint[]) WITH ORDINALITY
     AS e(event_id, subject_id, designation_id, type, effective_at, envelope,
          source_partition, source_offset, ord)
ORDER BY e.ord
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id, position
"""
"""The rows are inserted in the order of `ord`, so the identity column numbers them in
the batch's order (a subject's events fold in position order); an id already stored,
or met earlier in the batch, is skipped (DO NOTHING), and RETURNING names those
stored."""
