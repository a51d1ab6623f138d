"""the stored events as json compressed with lz4; the tasks' lookup by designation

What Postgres did for every designation the responder ingests and every task its
departments write, measured on this machine (docs/benchmarks.md, "The responder's
work per debtor (fifth pass)"):

- `designation_events.envelope`: a court designation's envelope is ~7 kB of JSON.
  Stored as `jsonb` the server parsed it into jsonb (~200 µs) and compressed it with
  pglz (~250 µs); as `json` compressed with lz4 it checks the text and compresses it
  in ~60 µs, and reading it back (`envelope::text`, the folds) returns the text as
  stored instead of printing the jsonb. Nothing queries inside the envelope: every
  reader parses the text into an `Envelope`. Converting the stored rows rewrites the
  table once.
- `tasks`: the unique constraint on (department, designation_id, measure) repeats the
  primary key (a task id is uuid5 of those three, task_ids.py) in an index of ~110
  bytes a row whose leading keys are text; its one use is the pass's lookup of a
  department's tasks by designation (pass_sql.TASKS_FOR_UPDATE, stop_waking, the
  inbox's `designation_id=` filter), which an index on (designation_id, department)
  serves as well, uuid first. At 1,000,000 tasks (48 per designation over 31
  departments): the index 33 MB instead of 68, locking one department's tasks of 200
  designations 0.9 ms instead of 0.7 (on `designation_id` alone: 7 MB, but 3.3 ms, the
  planner AND-ing it with the inbox's index).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

from shared.adapters import migration_ops as shared

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("designation_events", "envelope"),)


def upgrade() -> None:
    # The type first: changing it resets the column's compression to the default.
    op.execute(
        "ALTER TABLE designation_events ALTER COLUMN envelope TYPE json USING envelope::json"
    )
    shared.set_compression(_COLUMNS, "lz4")
    op.create_index("tasks_designation", "tasks", ["designation_id", "department"], unique=False)
    op.drop_constraint("tasks_department_measure", "tasks", type_="unique")


def downgrade() -> None:
    op.create_unique_constraint(
        "tasks_department_measure", "tasks", ["department", "designation_id", "measure"]
    )
    op.drop_index("tasks_designation", table_name="tasks")
    # A new type takes the server's default compression again, as before 0005.
    op.execute(
        "ALTER TABLE designation_events ALTER COLUMN envelope TYPE jsonb USING envelope::jsonb"
    )
