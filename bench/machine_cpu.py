"""The CPU a pipeline run costs beyond the services' own processes: the Postgres
backends serving them and the Kafka broker, from /proc/<pid>/stat.

Which backends: each service's connections carry its schema as their
`application_name` (shared/adapters/db.py `session_settings`), so the run's backends
are those of `pg_stat_activity` whose `application_name` is one of the run's schemas
(`initiator_<suffix>`, ...): other sessions' backends on the same server are left out.

Backends that come and go (a pool's overflow connection is closed when it is handed
back; the responder's check pool starts empty): a thread samples `pg_stat_activity`
and each backend's CPU every `interval_s`. A backend first seen after the run began
counts from zero if it started after the run began (`backend_start`), else from its
CPU when first seen; one already there at the start counts from then. A backend
that exits loses what it used since its last sample (at most `interval_s` of it);
one that starts and exits between two samples is not seen at all. `seen` and `gone`
say how many there were, so a run with much churn shows it.

The broker's process (`kafka.Kafka` on its command line) and Postgres's background
processes (WAL writer, checkpointer, background writer) serve every session on this
machine: their CPU over the run includes other sessions' load, and is reported as
such. Beside them, the whole machine's busy and idle time over the run (/proc/stat):
what the parts above leave of the busy time is everything else on the machine (other
sessions, this bench's own driver), and the idle time says whether the run waited
rather than computed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench.servers import cpu_seconds

BACKGROUND = ("walwriter", "checkpointer", "background writer")


def machine_ticks() -> tuple[float, float]:
    """The whole machine's busy and idle CPU seconds so far (/proc/stat's first line:
    idle and iowait are idle, the rest busy), every process of every session."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / ticks, idle / ticks


def kafka_broker_pid(bootstrap: str | None = None) -> int | None:
    """The local Kafka broker's process: the one listening on `bootstrap`'s port
    (other sessions may run brokers of their own on this machine), else the first with
    `kafka.Kafka` on its command line."""
    if bootstrap:
        port = int(bootstrap.split(",")[0].rsplit(":", 1)[1])
        pid = listening_pid(port)
        if pid is not None:
            return pid
    return _find(lambda cmdline: "kafka.Kafka" in cmdline)


def listening_pid(port: int) -> int | None:
    """The process holding a TCP socket that listens on `port` (/proc/net/tcp{,6}: the
    socket's inode, then the process whose descriptors include it)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and inodes:
            with contextlib.suppress(OSError):
                for fd in (proc / "fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd) in inodes:
                            return int(proc.name)
    return None


def _parent(pid: str) -> int | None:
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return None


def _find(match: Callable[[str], bool], parent: int | None = None) -> int | None:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and (parent is None or _parent(proc.name) == parent):
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            if match(cmdline):
                return int(proc.name)
    return None


def _cpu_or_none(pid: int) -> float | None:
    try:
        return cpu_seconds(pid)
    except (OSError, IndexError):  # exited
        return None


def postgres_background_pids(pg_url: str) -> dict[str, int]:
    """The background processes of the server `pg_url` names: the children of the
    process listening on its port (other sessions may run servers of their own)."""
    postmaster = listening_pid(urlsplit(pg_url).port or 5432)
    if postmaster is None:
        return {}
    found: dict[str, int] = {}
    for name in BACKGROUND:
        title = f"postgres: {name}"
        pid = _find(title.__eq__, postmaster)
        if pid is not None:
            found[name] = pid
    return found


class _Backend:
    def __init__(self, service: str, base: float) -> None:
        self.service, self.base, self.last = service, base, base
        self.alive = True


class MachineCpu:
    """`with MachineCpu(pg_url, {"responder": "responder_x", ...}, kafka=bootstrap) as m:
    ...`, then
    `m.result()`: CPU seconds of the services' Postgres backends (by service), of the
    broker and of Postgres's background processes over the block."""

    def __init__(
        self,
        pg_url: str,
        schemas: dict[str, str],
        interval_s: float = 0.25,
        kafka: str | None = None,
    ) -> None:
        self._url, self._interval = pg_url, interval_s
        self._service_of = {schema: service for service, schema in schemas.items()}
        self._backends: dict[int, _Backend] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_loop, daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._broker = kafka_broker_pid(kafka)
        self._background = postgres_background_pids(pg_url)
        self._fixed0: dict[str, float | None] = {}
        self._fixed1: dict[str, float | None] = {}
        self._machine0 = self._machine1 = (0.0, 0.0)
        self._started_at = datetime.now(UTC)

    def _fixed(self) -> dict[str, float | None]:
        pids = dict(self._background)
        if self._broker is not None:
            pids["kafka_broker"] = self._broker
        return {name: _cpu_or_none(pid) for name, pid in pids.items()}

    def __enter__(self) -> MachineCpu:
        self._started_at = datetime.now(UTC)
        self._machine0 = machine_ticks()
        self._fixed0 = self._fixed()
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(30)
        self._fixed1 = self._fixed()
        self._machine1 = machine_ticks()

    def _sample_loop(self) -> None:
        try:
            asyncio.run(self._sample_until_stopped())
        except BaseException as exc:  # reported by result()
            self._error = exc
            self._ready.set()

    async def _sample_until_stopped(self) -> None:
        conn = await asyncpg.connect(self._url)
        try:
            await self._sample(conn)
            self._ready.set()
            while not self._stop.is_set():
                await asyncio.sleep(self._interval)
                await self._sample(conn)
            await self._sample(conn)
        finally:
            await conn.close()

    async def _sample(self, conn: asyncpg.Connection[Any]) -> None:
        rows = await conn.fetch(
            "SELECT pid, application_name, backend_start FROM pg_stat_activity"
            " WHERE application_name = ANY($1::text[])",
            list(self._service_of),
        )
        current = set()
        for r in rows:
            pid = int(r["pid"])
            current.add(pid)
            cpu = _cpu_or_none(pid)
            if cpu is None:
                continue
            backend = self._backends.get(pid)
            if backend is None:
                started_within = r["backend_start"] >= self._started_at
                backend = _Backend(self._service_of[r["application_name"]], 0.0)
                backend.base = 0.0 if started_within else cpu
                self._backends[pid] = backend
            backend.last = cpu
        for pid, backend in self._backends.items():
            if pid not in current:
                backend.alive = False  # exited (a pid reused later is not followed)

    def result(self) -> dict[str, Any]:
        if self._error is not None:
            raise RuntimeError("sampling Postgres's backends failed") from self._error
        by_service: dict[str, float] = {}
        for backend in self._backends.values():
            used = backend.last - backend.base
            by_service[backend.service] = by_service.get(backend.service, 0.0) + used
        fixed = {
            name: round(end - start, 2)
            for name, start in self._fixed0.items()
            if start is not None and (end := self._fixed1.get(name)) is not None
        }
        return {
            "postgres_backends_s": round(sum(by_service.values()), 2),
            "postgres_backends_by_service_s": {k: round(v, 2) for k, v in by_service.items()},
            "backends_seen": len(self._backends),
            "backends_gone": sum(not b.alive for b in self._backends.values()),
            "kafka_broker_s": fixed.pop("kafka_broker", None),
            "postgres_background_s": fixed,
            "machine_busy_s": round(self._machine1[0] - self._machine0[0], 2),
            "machine_idle_s": round(self._machine1[1] - self._machine0[1], 2),
        }


def machine_split(
    found: dict[str, Any], services_s: float, debtors: int, wall_s: float
) -> dict[str, Any]:
    """`MachineCpu.result()` beside the services' own CPU: per debtor (ms), and each
    part's share of the machine's CPU time over the run (its cores × the wall time)."""
    parts = {
        "services": services_s,
        "postgres_backends": found["postgres_backends_s"],
        "postgres_background": sum(found["postgres_background_s"].values()),
        "kafka_broker": found["kafka_broker_s"] or 0.0,
    }
    capacity = (os.cpu_count() or 1) * wall_s
    others = found["machine_busy_s"] - sum(parts.values())
    return {
        **found,
        "ms_per_debtor": {k: round(v * 1000 / debtors, 2) for k, v in parts.items()},
        "total_ms_per_debtor": round(sum(parts.values()) * 1000 / debtors, 1),
        "share_of_machine": {
            **{k: round(v / capacity, 3) for k, v in parts.items()},
            "everything_else": round(others / capacity, 3),
            "idle": round(found["machine_idle_s"] / capacity, 3),
        },
        "cores": os.cpu_count(),
    }
