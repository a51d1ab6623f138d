"""the status documents compressed with lz4

`status_log.body` (the message as received, ~24 kB for a court debtor) and
`subject_latest.status` are compressed when stored (TOAST) with PostgreSQL's default,
pglz: measured on the same machine, 500 statuses of a pipeline run inserted 100 at a
time, pglz cost the server ~180–200 µs of CPU per body and lz4 ~20 (the same size on
disk, 4.6 against 4.7 MB), and ~380 against ~220 µs per jsonb status. Values stored
before keep their compression; both read alike. A server built without lz4 keeps
pglz (the change is skipped, not failed).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from shared.adapters import migration_ops as shared

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("status_log", "body"), ("subject_latest", "status"))


def upgrade() -> None:
    shared.set_compression(_COLUMNS, "lz4")


def downgrade() -> None:
    shared.set_compression(_COLUMNS, "pglz")
