"""The journal's group statement (its outbox rows as JSON, the values in base64)
against a candidate with the outbox rows as four arrays (the values as bytea):
`python -m bench.check_group_sql [groups] [checks-per-group] [rounds]`.

A fresh responder schema; one connection; `groups` groups (default 2,000) of
`checks-per-group` checks (default 7), a block and an allow in turn, each block with one
~700-byte interception, written by each form of the statement in turn, `rounds` times
(default 4, the order swapped every round). Per group: this process's CPU (building the
parameters, asyncpg's encoding) and the Postgres backend's (its /proc stat), each form's
median over the rounds. Both forms write the same rows (checked after each phase).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from services.responder.check_journal import _GROUP, CheckRecord
from services.responder.interceptions import interception
from shared.adapters.migrations import upgrade_all
from shared.adapters.random_ids import uuid7_str
from tests.conftest import drop_schemas
from tests.support.infra import unique
from tests.support.subjects import new_uscc

_ARRAYS_GROUP = (
    _GROUP[: _GROUP.index("INSERT INTO outbox")]
    + """INSERT INTO outbox (topic, key, value, headers)
SELECT topic, key, value, headers
FROM unnest($2::text[], $3::text[], $4::bytea[], $5::jsonb[]) WITH ORDINALITY
  AS m(topic, key, value, headers, n)
ORDER BY n
"""
)
"""Tried in session 9, not kept (docs/benchmarks.md): the interceptions as four arrays."""


def _records(n: int) -> list[CheckRecord]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        subject, check_id = new_uscc(), uuid7_str()
        block = i % 2 == 0
        designation = uuid7_str()
        reasons = (
            [{"designation_id": designation, "list_type": "court", "measure": "m"}] if block else []
        )
        out.append(
            CheckRecord(
                check_id=check_id,
                department="caac",
                identifier=subject,
                subject_ids=[subject] if block else [],
                measures=["travel.restrict_flight"],
                action=None,
                decision="block" if block else "allow",
                reasons_json=orjson.dumps(reasons).decode(),
                data_fresh_as_of=now,
                checked_at=now,
                interceptions=[
                    interception(
                        subject_id=subject,
                        designation_id=designation,
                        measure="travel.restrict_flight",
                        department="caac",
                        check_id=check_id,
                        action=None,
                        suffix=".bench",
                        time=now,
                    )
                ]
                if block
                else [],
            )
        )
    return out


def _json_args(group: list[CheckRecord]) -> tuple[Any, ...]:
    """As CheckJournal._commit makes them."""
    checks = orjson.dumps([c.row() for c in group]).decode()
    outbox = orjson.dumps(
        [
            {
                "topic": m.topic,
                "key": m.key,
                "value": base64.b64encode(m.value).decode(),
                "headers": m.headers,
            }
            for c in group
            for m in c.interceptions
        ]
    ).decode()
    return checks, outbox


def _array_args(group: list[CheckRecord]) -> tuple[Any, ...]:
    messages = [m for c in group for m in c.interceptions]
    return (
        orjson.dumps([c.row() for c in group]).decode(),
        [m.topic for m in messages],
        [m.key for m in messages],
        [m.value for m in messages],
        [orjson.dumps(m.headers).decode() for m in messages],
    )


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _phase(
    conn: asyncpg.Connection[Any], backend: int, sql: str, args: list[tuple[Any, ...]]
) -> dict[str, float]:
    ours, theirs = time.process_time(), _cpu(backend)
    for group_args in args:
        await conn.execute(sql, *group_args)
    n = len(args)
    return {
        "client_us": 1e6 * (time.process_time() - ours) / n,
        "backend_us": 1e6 * (_cpu(backend) - theirs) / n,
    }


async def _main(groups: int, size: int, rounds: int, dsn: str, schema: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        forms = {"json": (_GROUP, _json_args), "arrays": (_ARRAYS_GROUP, _array_args)}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in forms}
        order = list(forms)
        for r in range(rounds):
            for name in order if r % 2 == 0 else order[::-1]:
                sql, make = forms[name]
                args_cpu0 = time.process_time()
                args = [make(_records(size)) for _ in range(groups)]
                build_us = 1e6 * (time.process_time() - args_cpu0) / groups
                before = await conn.fetchval("SELECT count(*) FROM outbox")
                phase = await _phase(conn, backend, sql, args)
                after = await conn.fetchval("SELECT count(*) FROM outbox")
                assert after - before == groups * ((size + 1) // 2), (name, after - before)
                runs[name].append({**phase, "build_us": build_us})
        medians = {
            name: {k: round(statistics.median(r[k] for r in rs), 1) for k in rs[0]}
            for name, rs in runs.items()
        }
        return {"groups": groups, "checks_per_group": size, "rounds": runs, "medians": medians}
    finally:
        await conn.close()


def main(groups: int = 2000, size: int = 7, rounds: int = 4) -> None:
    env_db = os.environ["DATABASE_URL"]
    admin = os.environ.get("DATABASE_ADMIN_URL", env_db)
    suffix = "_" + unique("gsql")
    upgrade_all(url=admin, schema_suffix=suffix, role=os.environ.get("JSB_SERVICE_ROLE", "jsb"))
    dsn = env_db.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        print(json.dumps(asyncio.run(_main(groups, size, rounds, dsn, "responder" + suffix))))
    finally:
        drop_schemas(admin, suffix)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        int(args[0]) if args else 2000,
        int(args[1]) if len(args) > 1 else 7,
        int(args[2]) if len(args) > 2 else 4,
    )
