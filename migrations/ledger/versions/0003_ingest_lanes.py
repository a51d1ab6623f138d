"""ingest lanes: each lane's stored offsets under its own consumer name

Ingest used to be one consumer (`ledger.ingest`) of both topics; it is now one lane
per topic (`ledger.ingest.designations`, `ledger.ingest.feedback`: see
services/ledger/bootstrap.py), each storing its offsets with its batches. The rows
are keyed by (consumer, topic, partition), so the single consumer's rows move to the
lane that consumes their topic and each lane resumes exactly where ingest stopped.
No table changes.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# lane → the topic prefix it consumes (topics may carry a suffix: JSB_TOPIC_SUFFIX)
LANES = {"designations": "jsb.designations.v1", "feedback": "jsb.feedback.v1"}


MOVE = sa.text(
    "UPDATE consumer_offsets SET consumer = :new WHERE consumer = :old AND topic LIKE :topics"
)


def upgrade() -> None:
    for lane, topic in LANES.items():
        op.execute(
            MOVE.bindparams(new=f"ledger.ingest.{lane}", old="ledger.ingest", topics=f"{topic}%")
        )


def downgrade() -> None:
    for lane in LANES:
        op.execute(MOVE.bindparams(new="ledger.ingest", old=f"ledger.ingest.{lane}", topics="%"))
