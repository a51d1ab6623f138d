"""The notifier's tables: the outbox (consumed offsets come with its first consumer)."""

from __future__ import annotations

from sqlalchemy import MetaData

from shared.adapters.outbox import outbox_table

metadata = MetaData()

outbox = outbox_table(metadata)
