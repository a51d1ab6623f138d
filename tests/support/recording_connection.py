"""A stand-in for a transaction's connection that records what the Postgres task store
sends it (tests/unit/test_responder_task_writes.py; bench/responder_plan_cpu.py takes
only the COPY's records)."""

from __future__ import annotations

from typing import Any


class Recorder:
    """A connection that records its statements: SQLAlchemy's, and the COPY its
    driver is given (recorded as an INSERT of the rows it copies)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.driver_connection = self

    async def execute(self, statement: Any, params: list[dict[str, Any]]) -> None:
        self.calls.append((str(statement).split()[0], params))

    async def get_raw_connection(self) -> Recorder:
        return self

    def is_in_transaction(self) -> bool:
        return True

    async def copy_records_to_table(
        self, table: str, *, records: list[tuple[Any, ...]], columns: tuple[str, ...]
    ) -> None:
        assert table == "tasks"
        self.calls.append(("INSERT", [dict(zip(columns, r, strict=True)) for r in records]))
