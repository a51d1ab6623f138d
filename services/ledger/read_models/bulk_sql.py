"""Set-based writes of projection rows: one statement per table per batch.

Why: a batch refreshes hundreds of subjects with ~50 rows each. Sent as an
executemany, SQLAlchemy processes every parameter of every row in Python and the
server plans a multi-row VALUES per page; as arrays, asyncpg encodes each column in
one go (in C) and the server reads the rows with `unnest`: one round trip, one plan
(prepared once per connection) per table, whatever the number of rows.

JSONB values travel as JSON text (pydantic_core serialises in Rust) and are cast
by the server; array columns (text[]) travel as JSON arrays, since a 2-D array
argument to `unnest` would be flattened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pydantic_core
from sqlalchemy import ARRAY, Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


async def delete_subjects(
    conn: AsyncConnection, tables: Iterable[Table], subject_ids: Sequence[str]
) -> None:
    """Delete every row of `subject_ids` from each of `tables` (keyed by subject_id)."""
    if not subject_ids:
        return
    for table in tables:
        await conn.execute(_delete(table), {"ids": list(subject_ids)})


async def delete_keys(conn: AsyncConnection, table: Table, keys: Sequence[Sequence[Any]]) -> None:
    """Delete the rows whose primary key (values in the key's column order) is in `keys`."""
    if not keys:
        return
    params = {f"k{i}": list(values) for i, values in enumerate(zip(*keys, strict=True))}
    await conn.execute(_delete_keys(table), params)


@dataclass(frozen=True, slots=True)
class JsonText:
    """A JSONB value already serialised: its text is sent as it is (a status document
    is serialised once for its row and its message: read_models/rows.py)."""

    text: str


@dataclass(frozen=True)
class Part:
    """A child column that holds a part of a parent's JSON: `child.column` =
    `parent.source -> key -> n` for the parent row with the same `join` value."""

    column: str
    join: str
    source: str
    key: str


async def insert_rows_with_parts(
    conn: AsyncConnection,
    parent: Table,
    parent_rows: Sequence[Mapping[str, Any]],
    child: Table,
    child_rows: Sequence[tuple[Mapping[str, Any], int]],
    part: Part,
) -> None:
    """Insert parent and child rows in one statement; each child row comes with the
    index n of its part (its own `part.column` value is not sent: the server takes it
    from the parent's JSON, parsed once)."""
    if not parent_rows:
        return
    params = _params(parent, "p", parent_rows)
    params.update(_params(child, "c", [row for row, _ in child_rows], skip=part.column))
    params["n"] = [n for _, n in child_rows]
    await conn.execute(_insert_with_parts(parent, child, part), params)


async def insert_rows(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (dicts keyed by column name, every column present) in one statement."""
    if not rows:
        return
    await conn.execute(_insert(table), _params(table, "p", rows))


def _params(
    table: Table, prefix: str, rows: Sequence[Mapping[str, Any]], skip: str | None = None
) -> dict[str, list[Any]]:
    params: dict[str, list[Any]] = {}
    for i, column in enumerate(table.columns):
        if column.name == skip:
            continue
        values = [row[column.name] for row in rows]
        if isinstance(column.type, JSONB | ARRAY):
            values = [_json_text(v) for v in values]
        params[f"{prefix}{i}"] = values
    return params


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, JsonText):
        return value.text
    return pydantic_core.to_json(value).decode()


# The statements are built from the ledger's own table metadata (names and types we
# define), never from input; every value is a bound parameter (hence the noqa: S608).

_ARRAY_OF_JSON = (
    "ARRAY(SELECT CAST(x.v AS {element}) FROM jsonb_array_elements_text(CAST({value} AS JSONB))"
    " WITH ORDINALITY AS x(v, n) ORDER BY x.n)"
)


@cache
def _delete(table: Table) -> TextClause:
    return text(f'DELETE FROM "{table.name}" WHERE subject_id = ANY(CAST(:ids AS TEXT[]))')  # noqa: S608


@cache
def _delete_keys(table: Table) -> TextClause:
    columns = list(table.primary_key.columns)
    args = ", ".join(
        f"CAST(:k{i} AS {c.type.compile(dialect=_DIALECT)}[])" for i, c in enumerate(columns)
    )
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    match = " AND ".join(f't."{c.name}" = k.c{i}' for i, c in enumerate(columns))
    return text(
        f'DELETE FROM "{table.name}" AS t USING unnest({args}) AS k({aliases}) '  # noqa: S608
        f"WHERE {match}"
    )


def _parts(
    table: Table, prefix: str, skip: str | None = None
) -> tuple[list[str], list[str], list[str]]:
    """Column names, unnest arguments (bound as `:<prefix><i>`) and select expressions
    over `u.c<i>` for every column of `table` but `skip`."""
    columns, args, select = [], [], []
    for i, column in enumerate(table.columns):
        if column.name == skip:
            continue
        columns.append(f'"{column.name}"')
        if isinstance(column.type, JSONB):
            args.append(f"CAST(:{prefix}{i} AS TEXT[])")
            select.append(f"CAST(u.c{i} AS JSONB)")
        elif isinstance(column.type, ARRAY):
            if column.nullable:  # NULL would come back as an empty array
                raise ValueError(f"{table.name}.{column.name}: arrays must be NOT NULL")
            args.append(f"CAST(:{prefix}{i} AS TEXT[])")
            element = column.type.item_type.compile(dialect=_DIALECT)
            select.append(_ARRAY_OF_JSON.format(element=element, value=f"u.c{i}"))
        else:
            args.append(f"CAST(:{prefix}{i} AS {column.type.compile(dialect=_DIALECT)}[])")
            select.append(f"u.c{i}")
    return columns, args, select


def _aliases(table: Table, skip: str | None = None) -> list[str]:
    return [f"c{i}" for i, c in enumerate(table.columns) if c.name != skip]


@cache
def _insert(table: Table) -> TextClause:
    columns, args, select = _parts(table, "p")
    return text(
        f'INSERT INTO "{table.name}" ({", ".join(columns)}) '  # noqa: S608
        f"SELECT {', '.join(select)} FROM unnest({', '.join(args)}) AS u"
        f"({', '.join(_aliases(table))})"
    )


@cache
def _insert_with_parts(parent: Table, child: Table, part: Part) -> TextClause:
    p_columns, p_args, p_select = _parts(parent, "p")
    c_columns, c_args, c_select = _parts(child, "c", skip=part.column)
    c_columns.append(f'"{part.column}"')
    c_select.append(f"parent.\"{part.source}\" -> '{part.key}' -> u.n")
    c_args.append("CAST(:n AS INTEGER[])")
    c_aliases = [*_aliases(child, part.column), "n"]
    join = f"c{[c.name for c in child.columns].index(part.join)}"
    parent_insert = (
        f'INSERT INTO "{parent.name}" ({", ".join(p_columns)}) '  # noqa: S608
        f"SELECT {', '.join(p_select)} FROM unnest({', '.join(p_args)}) "
        f"AS u({', '.join(_aliases(parent))}) "
        f'RETURNING "{part.join}", "{part.source}"'
    )
    return text(
        f"WITH parent AS ({parent_insert}) "  # noqa: S608
        f'INSERT INTO "{child.name}" ({", ".join(c_columns)}) '
        f"SELECT {', '.join(c_select)} FROM unnest({', '.join(c_args)}) "
        f"AS u({', '.join(c_aliases)}) "
        f'JOIN parent ON parent."{part.join}" = u.{join}'
    )
