"""the status documents compressed with lz4

The ledger stores each projected subject's whole status (`subject_status.status`,
~26 kB for a court debtor), each designation's view (`designations.view`) and each
status message in the outbox (`outbox.value`, the same document again) once per
projection; PostgreSQL compresses values this large (TOAST) with its default, pglz.
Measured for the notifier's same documents (its migration 0004): pglz cost the server
~180–200 µs of CPU per 24 kB body and lz4 ~20, at the same size on disk.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from shared.adapters import migration_ops as shared

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("subject_status", "status"), ("designations", "view"), ("outbox", "value"))


def upgrade() -> None:
    shared.set_compression(_COLUMNS, "lz4")


def downgrade() -> None:
    shared.set_compression(_COLUMNS, "pglz")
