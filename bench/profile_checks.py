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
import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import asyncpg

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
        cpu0, split0, machine0 = cpu_seconds(server.pid), _user_system(server.pid), _machine()
        others0 = _by_command(("postgres", "java"))
        backends0 = _backends_of(server.pid)
        waited = check_waits.snapshot(server.url)
        spy.start()
        result = wrk.run(server.url, bodies, token, duration_s=seconds)
        spy.join()
        checks = max(result.requests, 1)
        figures_others: dict[str, object] = {}
        cpu_ms = 1000 * (cpu_seconds(server.pid) - cpu0) / checks
        user, system = (
            1000 * (b - a) / checks for a, b in zip(split0, _user_system(server.pid), strict=True)
        )
        busy, idle = (b - a for a, b in zip(machine0, _machine(), strict=True))
        backends = _backends_of(server.pid)
        queries = asyncio.run(_last_queries(dsn, set(backends)))
        own: dict[str, float] = {}
        for port, cpu in backends.items():  # by the kind of statement each last ran
            kind = queries.get(port, "?")
            own[kind] = own.get(kind, 0.0) + cpu - backends0.get(port, cpu)
        figures_others["its_postgres_ms_per_check"] = {
            kind: round(1000 * spent / checks, 3) for kind, spent in sorted(own.items())
        }
        others = _by_command(("postgres", "java"))
        for name, pids in others.items():  # each process alive at both ends
            spent = sum(cpu - others0[name].get(pid, cpu) for pid, cpu in pids.items())
            figures_others[f"{name}_ms_per_check"] = round(1000 * spent / checks, 3)
        figures: dict[str, object] = {
            **figures_others,
            "machine_busy_cores": round((os.cpu_count() or 1) * busy / max(busy + idle, 1), 2),
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


def _by_command(names: tuple[str, ...]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of every process running one of `names` (Postgres' backends,
    the broker's JVM: the whole machine's, other users of the shared stack included)."""
    found: dict[str, dict[int, float]] = {name: {} for name in names}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            command = text[text.index("(") + 1 : text.rindex(")")]
            if command in found:
                found[command][int(stat.parent.name)] = cpu_seconds(int(stat.parent.name))
        except OSError:  # gone meanwhile
            continue
    return found


def _backends_of(pid: int) -> dict[int, float]:
    """CPU seconds so far of the Postgres backends serving process `pid`, by the TCP
    port of its end of the connection."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[9] in inodes:
            ports.add(int(fields[1].split(":")[1], 16))
    found: dict[int, float] = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError, ValueError):
            text = cmdline.read_text().replace("\0", " ")
            if text.startswith("postgres: ") and "(" in text:
                port = int(text[text.index("(") + 1 : text.index(")")])
                if port in ports:
                    found[port] = cpu_seconds(int(cmdline.parent.name))
    return found


async def _last_queries(dsn: str, ports: set[int]) -> dict[int, str]:
    """What each backend (by client port) ran last: its statement's first words."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT client_port, query FROM pg_stat_activity")
    finally:
        await conn.close()
    return {
        r["client_port"]: " ".join(str(r["query"]).split()[:4])[:40]
        for r in rows
        if r["client_port"] in ports
    }


def _machine() -> tuple[float, float]:
    """The machine's busy and idle CPU time so far (/proc/stat, every core)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks[:8]) - idle, idle


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
