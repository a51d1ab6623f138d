"""The shared outbox (shared/adapters/outbox.py) with its rows written by one binary
COPY: the responder's passes enqueue a feedback event for each department and
designation (~31 per court designation), and through SQLAlchemy's executemany each
row's parameters (and its headers' JSON) were built in Python — 25 ms of CPU per 100
court designations, the pass's second largest write after the tasks, which a COPY
already writes (pg_store.PostgresTaskStore.write says why, docs/benchmarks.md "third
pass"). Reading, publishing and marking stay the shared adapter's; the rows are the
same (`tests/integration/test_responder_outbox.py` runs the outbox's contract on it)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from services.responder import pass_sql
from shared.adapters.outbox import PostgresOutbox
from shared.ports import OutboxMessage

_COLUMNS = ("topic", "key", "value", "headers")


class CopiedOutbox(PostgresOutbox):
    async def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        if not messages:
            return
        driver = await pass_sql.driver_of(self.conn)
        records = [(m.topic, m.key, m.value, orjson.dumps(m.headers).decode()) for m in messages]
        await driver.copy_records_to_table(self.table.name, records=records, columns=_COLUMNS)
