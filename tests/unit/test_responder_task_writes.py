"""The pass's gathered task writes (services/responder/task_writes.py): the same end
state as writing each plan at once — later values win key by key, a row inserted and
updated in one pass is inserted with its final values, one statement per shape (the
Postgres task store's `write`, on a connection that records its statements)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from services.responder.pg_store import PostgresTaskStore
from services.responder.planning import Plan
from services.responder.task_writes import TaskWrites
from tests.support.recording_connection import Recorder


def _plan(**fields: Any) -> Plan:
    return Plan("s", uuid4(), "mof", None, **fields)


async def test_later_values_win_and_new_rows_carry_their_final_values() -> None:
    new, old = uuid4(), uuid4()
    writes = TaskWrites()
    assert not writes
    writes.add(_plan(inserts=[{"task_id": new, "state": "executed", "wake_at": None}]))
    writes.add(_plan(updates=[(old, {"state": "executed", "last_event_id": 1})]))
    writes.add(_plan(updates=[(new, {"state": "lifted"}), (old, {"state": "lifted"})]))
    assert writes
    conn = Recorder()
    await writes.flush(PostgresTaskStore(conn))  # type: ignore[arg-type]
    assert conn.calls[0] == ("INSERT", [{"task_id": new, "state": "lifted", "wake_at": None}])
    (kind, rows), *rest = conn.calls[1:]
    assert (kind, rest) == ("UPDATE", [])
    assert rows == [{"_task": old, "_v_state": "lifted", "_v_last_event_id": 1}]
    assert not writes  # flushed: nothing written twice


async def test_one_update_statement_per_set_of_columns() -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    writes = TaskWrites()
    writes.add(_plan(updates=[(a, {"state": "x"}), (b, {"state": "y"})]))
    writes.add(_plan(updates=[(c, {"state": "z", "wake_at": None})]))
    conn = Recorder()
    await writes.flush(PostgresTaskStore(conn))  # type: ignore[arg-type]
    assert [(k, len(rows)) for k, rows in conn.calls] == [("UPDATE", 2), ("UPDATE", 1)]
