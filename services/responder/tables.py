"""The responder's tables: consumed offsets and the outbox of feedback."""

from __future__ import annotations

from sqlalchemy import MetaData

from shared.adapters.consumer import offsets_table
from shared.adapters.outbox import outbox_table

metadata = MetaData()

outbox = outbox_table(metadata)
consumer_offsets = offsets_table(metadata)
