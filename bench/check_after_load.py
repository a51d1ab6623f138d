"""A responder's CPU per check in the minutes after its index loaded:
`python -m bench.check_after_load [subjects] [windows] [seconds]`.

Why: in the check bench the 1,000,000-subject phase is measured seconds after its
index loaded, and cost 1.2-1.25x the 10,000 phase's CPU per check in most runs, while
the same sizes served side by side for minutes (bench/check_sizes.py) cost the same.
Here one responder holds `subjects` restricted subjects (default 1,000,000; filled and
settled as the check bench does) and wrk loads it at the maximum rate for `windows`
consecutive windows of `seconds` each (default 8 of 8 s) from the moment its index is
loaded; per window: the CPU per check (user, system), the minor page faults per check
(the kernel handing the process fresh pages) and the rate. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import check_data, wrk
from bench.machine import describe
from bench.servers import Server
from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.topics import TOPICS, TopicSpec
from tests.conftest import drop_schemas
from tests.support.infra import unique


def _stat(pid: int) -> tuple[float, float, int]:
    """User and system CPU seconds and minor page faults of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks, int(fields[7])


def main(subjects: int = 1_000_000, windows: int = 8, seconds: float = 8) -> None:
    env_db = os.environ["DATABASE_URL"]
    admin = os.environ.get("DATABASE_ADMIN_URL", env_db)
    kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    dsn = env_db.replace("postgresql+asyncpg://", "postgresql://", 1)
    suffix, topics = "_" + unique("aft"), "." + unique("aft")
    specs = tuple(TopicSpec(t.name + topics, t.configs) for t in TOPICS)
    asyncio.run(kafka_admin.ensure_topics(kafka, 3, specs))
    upgrade_all(url=admin, schema_suffix=suffix, role=os.environ.get("JSB_SERVICE_ROLE", "jsb"))
    schema = "responder" + suffix
    tmp = Path(tempfile.mkdtemp(prefix="jsb-after-load-"))
    token = secrets.token_urlsafe(16)
    (tmp / "tokens.json").write_text(json.dumps({check_data.DEPARTMENT: token}))
    server: Server | None = None
    try:
        asked = check_data.prepare(dsn, admin.replace("+asyncpg", "", 1), schema, subjects)
        bodies = asked.write_bodies(tmp / "bodies.jsonl")
        server = check_data.responder(schema, topics, tmp / "tokens.json", tmp / "server.log")
        server.start()
        load_s = check_data.wait_index_loaded(server.url, max(subjects, len(asked.blocked)))
        loaded_at = time.monotonic()
        measured: list[dict[str, Any]] = []
        for _ in range(windows):
            user0, system0, faults0 = _stat(server.pid)
            at = time.monotonic() - loaded_at
            result = wrk.run(server.url, bodies, token, duration_s=seconds)
            user, system, faults = _stat(server.pid)
            checks = max(result.requests, 1)
            measured.append(
                {
                    "since_load_s": round(at, 1),
                    "requests_per_s": result.requests_per_s,
                    "cpu_ms_per_check": round(1000 * (user - user0 + system - system0) / checks, 4),
                    "user_ms_per_check": round(1000 * (user - user0) / checks, 4),
                    "system_ms_per_check": round(1000 * (system - system0) / checks, 4),
                    "minor_faults_per_check": round((faults - faults0) / checks, 2),
                }
            )
        print(
            json.dumps(
                {
                    "machine": describe(),
                    "subjects": subjects,
                    "index_load_s": round(load_s, 1),
                    "windows": measured,
                    "peak_rss_mb": round(server.peak_rss_mb(), 1),
                }
            )
        )
    finally:
        if server is not None:
            server.stop()
        drop_schemas(admin, suffix)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        int(args[0]) if args else 1_000_000,
        int(args[1]) if len(args) > 1 else 8,
        float(args[2]) if len(args) > 2 else 8,
    )
