"""Profile the responder under check load:
`python -m bench.profile_checks OUT.svg [seconds] [subjects]`.

A fresh schema with `subjects` restricted subjects (default 10,000; bench/check_data.py),
the responder under the services' uvicorn settings, its index loaded, wrk at the
maximum rate, py-spy recording the responder meanwhile (`--format speedscope` if OUT
ends in .json; with `JSB_PROFILE_NATIVE=1`, C and Cython frames too: asyncpg's
protocol, uvloop, httptools; with `JSB_PROFILE_PERF=1`, Linux `perf record` instead: CPU
time, not wall time — see `_recorder`). Prints wrk's figures, the responder's CPU per check, its
RSS, and where a check waited (bench/check_waits.py: the group statement's time and size)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench import check_data, check_waits, wrk
from bench.servers import Server, cpu_seconds
from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.topics import TOPICS, TopicSpec
from tests.conftest import drop_schemas
from tests.support.infra import unique
from tests.support.stack import free_port


def main(out: str, seconds: float = 15.0, subjects: int = 10_000) -> None:
    env_db = os.environ["DATABASE_URL"]
    admin = os.environ.get("DATABASE_ADMIN_URL", env_db)
    kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    suffix = "_" + unique("prof")
    topics = "." + unique("prof")
    asyncio.run(
        kafka_admin.ensure_topics(
            kafka, 3, tuple(TopicSpec(t.name + topics, t.configs) for t in TOPICS)
        )
    )
    upgrade_all(url=admin, schema_suffix=suffix, role=os.environ.get("JSB_SERVICE_ROLE", "jsb"))
    schema = "responder" + suffix
    dsn = env_db.replace("postgresql+asyncpg://", "postgresql://", 1)
    tmp = Path(tempfile.mkdtemp(prefix="jsb-profile-"))
    try:
        token = secrets.token_urlsafe(16)
        (tmp / "tokens.json").write_text(json.dumps({check_data.DEPARTMENT: token}))
        asked = asyncio.run(check_data.asked_subjects(dsn, schema))
        asyncio.run(check_data.fill(dsn, schema, len(asked.blocked), subjects))
        asyncio.run(check_data.settle(admin.replace("+asyncpg", "", 1), schema))
        bodies = asked.write_bodies(tmp / "bodies.jsonl")
        server = Server(
            os.environ.get("JSB_PROFILE_APP", "services.responder.app:app"),
            free_port(),
            {
                "JSB_TOKENS_FILE": str(tmp / "tokens.json"),
                "JSB_TOPIC_SUFFIX": topics,
                "JSB_RESPONDER_DB_SCHEMA": schema,
                "JSB_RESPONDER_DEPARTMENTS": check_data.DEPARTMENT,
                "JSB_LOG_LEVEL": os.environ.get("JSB_PROFILE_LOG_LEVEL", "WARNING"),
            },
            tmp / "server.log",
        )
        server.start()
        check_data.wait_index_loaded(server.url, subjects)
        wrk.run(server.url, bodies, token, duration_s=2)  # warm-up
        spy = threading.Thread(target=subprocess.run, args=(_recorder(out, seconds, server.pid),))
        cpu0, split0 = cpu_seconds(server.pid), _user_system(server.pid)
        waited = check_waits.snapshot(server.url)
        spy.start()
        result = wrk.run(server.url, bodies, token, duration_s=seconds)
        spy.join()
        checks = max(result.requests, 1)
        cpu_ms = 1000 * (cpu_seconds(server.pid) - cpu0) / checks
        user, system = (
            1000 * (b - a) / checks for a, b in zip(split0, _user_system(server.pid), strict=True)
        )
        figures = {
            "cpu_ms_per_check": round(cpu_ms, 3),
            "user_ms_per_check": round(user, 3),
            "system_ms_per_check": round(system, 3),
            "rss_mb": server.peak_rss_mb(),
            "waits": check_waits.waits(waited, check_waits.snapshot(server.url)),
        }
        print(json.dumps({**result.as_dict(), "subjects": subjects, **figures}))
        server.stop()
    finally:
        drop_schemas(admin, suffix)


def _recorder(out: str, seconds: float, pid: int) -> list[str]:
    """The sampling profiler's command line: py-spy, or with `JSB_PROFILE_PERF=1` Linux
    `perf` (CPU time only: py-spy samples wall time, so a thread preempted in a system
    call — a write that wakes Postgres or the load generator on this 2-core machine —
    is charged to that call; perf counts only cycles the process spent)."""
    duration = str(int(seconds) - 2)
    if os.environ.get("JSB_PROFILE_PERF"):
        return [
            "perf",
            "record",
            "-F",
            "499",
            "-g",
            "-p",
            str(pid),
            "-o",
            out,
            "--",
            "sleep",
            duration,
        ]
    fmt = ["--format", "speedscope"] if out.endswith(".json") else []
    if os.environ.get("JSB_PROFILE_NATIVE"):  # C and Cython frames too (slower)
        fmt.append("--native")
    spy = str(Path(sys.executable).with_name("py-spy"))
    return [
        spy,
        "record",
        "--pid",
        str(pid),
        "--duration",
        duration,
        "--rate",
        "200",
        "-o",
        out,
        *fmt,
    ]


def _user_system(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


if __name__ == "__main__":
    main(
        sys.argv[1],
        float(sys.argv[2]) if len(sys.argv) > 2 else 15.0,
        int(sys.argv[3]) if len(sys.argv) > 3 else 10_000,
    )
