"""What the events table's indexes cost a COPY: the raw COPY baseline's rows
(bench/ledger_phases.py `numbered`, the ledger's columns, the payload as JSONB)
COPYed batch by batch into tables that differ only in their indexes, in one run,
the order rotated every round:

    python -m bench.ledger_copy_indexes [events] [rounds]

- `none`: no index (the raw COPY baseline's table);
- `position`: the primary key on position;
- `position+event_id`: and the unique event id;
- `all three`: and the unique (stream, stream_version) — the events table's indexes
  (migrations/ledger/versions/0001_baseline.py).

Each table fresh in a schema of its own on the shared stack (dropped afterwards), one
transaction per batch of 2,000 rows; prints the seconds per table per round and the
ratio of each to `none` in the same round. Ratios only: the machine is shared.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.ledger_phases import copy_batch, copy_rows, numbered
from bench.ledger_records import write
from shared.adapters.db import make_engine
from tests.bench.test_ledger_scale_bench import EVENTS_PER_DEBTOR, plain_schema
from tests.support.infra import discover
from tests.support.ledger_harness import drop_schema

TABLE = (
    "CREATE TABLE events (position bigint GENERATED ALWAYS AS IDENTITY, event_id uuid NOT"
    " NULL, stream text NOT NULL, stream_version int NOT NULL, type text NOT NULL,"
    " schema_version int NOT NULL, effective_at timestamptz NOT NULL, recorded_at"
    " timestamptz NOT NULL DEFAULT clock_timestamp(), source_topic text, source_partition"
    " int, source_offset bigint, payload jsonb NOT NULL, prev_hash text NOT NULL,"
    " hash text NOT NULL)"
)
INDEXES = {
    "none": [],
    "position": ["ALTER TABLE events ADD PRIMARY KEY (position)"],
    "position+event_id": [
        "ALTER TABLE events ADD PRIMARY KEY (position)",
        "ALTER TABLE events ADD UNIQUE (event_id)",
    ],
    "all three": [
        "ALTER TABLE events ADD PRIMARY KEY (position)",
        "ALTER TABLE events ADD UNIQUE (event_id)",
        "ALTER TABLE events ADD UNIQUE (stream, stream_version)",
    ],
}


async def copy_into(admin: str, schema: str, ddl: list[str], rows: list[list[Any]]) -> float:
    engine = make_engine(admin, schema=schema)
    async with engine.begin() as conn:
        for stmt in [TABLE, *ddl]:
            await conn.execute(text(stmt))
    timed = sum([await copy_batch(engine, "events", part) for part in rows])
    await engine.dispose()
    return timed


async def compare(events: int, rounds: int, workdir: Path) -> None:
    path = workdir / "records.tsv"
    write(path, events // EVENTS_PER_DEBTOR)
    rows = [copy_rows(part) for part in numbered(path)]
    names = list(INDEXES)
    with discover() as infra:
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            seconds: dict[str, float] = {}
            for name in order:
                schema = await plain_schema(infra)
                try:
                    seconds[name] = await copy_into(infra.admin_url, schema, INDEXES[name], rows)
                finally:
                    await drop_schema(infra, schema)
            ratios = {k: round(v / seconds["none"], 2) for k, v in seconds.items()}
            out = {"round": r, "rows": sum(map(len, rows)), "seconds": seconds, "ratio": ratios}
            print(json.dumps(out), flush=True)


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 25_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    with tempfile.TemporaryDirectory(prefix="jsb-ledger-copy-") as tmp:
        asyncio.run(compare(events, rounds, Path(tmp)))


if __name__ == "__main__":
    main()
