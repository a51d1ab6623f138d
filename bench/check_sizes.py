"""Does a check cost more with more subjects in the index? Two responders side by side:
`python -m bench.check_sizes [small] [large] [seconds] [rounds] [max,half]`.

Why: the check bench measures its sizes one after the other, minutes apart, and on this
shared machine the CPU per check of the same code moves by 10-20 % between two phases
(docs/benchmarks.md, "Check API"): its 1,000,000-over-10,000 figures say as much about
the minutes as about the size. Here both sizes (default 10,000 and 1,000,000 restricted
subjects, each in a fresh schema of its own, filled and settled as the check bench does:
bench/check_data.py) are served at once by two responder processes with their indexes
loaded, and wrk loads them in turn, `rounds` times (default 4), the order swapped every
round (bench/trees.py): a phase is `seconds` (default 8) at the maximum rate (32
connections, a blocked and an unlisted subject in turn), then `seconds` at half of that
phase's maximum (each size's half rate from its own maximum; `max` alone skips it). Each
run gives the responder's CPU per check (user and system), the rate, p50 / p99, where its
checks waited (as served, journal queue) and its journal's groups (statement time, checks
per group). Prints one JSON line: every phase, the medians and large over small.
`small` equal to `large` is the control (the same size twice). The check bench
(tests/bench/test_check_bench.py) measures its sizes this way too (`side_by_side`)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench import check_data, check_waits, wrk
from bench.machine import describe
from bench.profile_checks import _backends_of, _user_system
from bench.servers import Server, cpu_seconds
from bench.trees import alternated
from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.topics import TOPICS, TopicSpec
from tests.conftest import drop_schemas
from tests.support.infra import unique

CONNECTIONS = 32

RATES = ("max", "half")
"""A phase: the maximum rate (closed loop), then half of that phase's own maximum
(each connection paced by wrk's `delay()`, bench/checks.lua), as the check bench."""


PAIRED = ("requests_per_s", "p50_ms", "p99_ms", "cpu_ms_per_check")
"""The figures whose large-over-small ratio is also given round by round."""


def _run(server: Server, bodies: Path, token: str, seconds: float, delay_ms: int) -> dict[str, Any]:
    """One wrk run against `server`: its rate and latency, the responder's CPU per
    check (user and system), where its checks waited (bench/check_waits.py)."""
    backends0 = _backends_of(server.pid)
    split0, waited = _user_system(server.pid), check_waits.snapshot(server.url)
    result = wrk.run(
        server.url, bodies, token, connections=CONNECTIONS, duration_s=seconds, delay_ms=delay_ms
    )
    user, system = (b - a for a, b in zip(split0, _user_system(server.pid), strict=True))
    backends = _backends_of(server.pid)
    checks = max(result.requests, 1)
    waits = check_waits.waits(waited, check_waits.snapshot(server.url))
    return {
        "requests_per_s": result.requests_per_s,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": result.errors,
        "cpu_ms_per_check": round(1000 * (user + system) / checks, 4),
        "user_ms_per_check": round(1000 * user / checks, 4),
        "system_ms_per_check": round(1000 * system / checks, 4),
        # its Postgres backends (a connection opened meanwhile counts from zero)
        "postgres_ms_per_check": round(
            1000 * sum(cpu - backends0.get(port, 0.0) for port, cpu in backends.items()) / checks,
            4,
        ),
        **{
            key: waits.get(name, {}).get("mean", 0.0)
            for key, name in (
                ("served_ms", "jsb_check_seconds"),
                ("queued_ms", "responder_check_queued_seconds"),
                ("group_ms", "responder_check_group_seconds"),
                ("checks_per_group", "responder_check_group_size"),
            )
        },
    }


def _phase(
    server: Server, bodies: Path, token: str, seconds: float, rates: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    wrk.run(server.url, bodies, token, connections=CONNECTIONS, duration_s=1)  # warm-up
    peak = _run(server, bodies, token, seconds, 0)
    out = {"max": peak}
    if "half" in rates:
        half_rate = peak["requests_per_s"] / 2
        delay_ms = max(1, round(CONNECTIONS * 1000 / half_rate))
        half = _run(server, bodies, token, seconds, delay_ms)
        out["half"] = {**half, "target_per_s": round(half_rate, 1), "delay_ms": delay_ms}
    return out


def side_by_side(
    servers: Mapping[str, tuple[Server, Path]],
    token: str,
    seconds: float,
    rounds: int,
    rates: tuple[str, ...] = RATES,
) -> dict[str, Any]:
    """`servers` ("small" and "large": a running responder and its wrk bodies) loaded
    in turn, `rounds` times, the order swapped every round (bench/trees.py): each
    phase at the rates of `rates`. Every phase's figures, their medians per size and
    rate, large over small, and each responder's peak RSS."""
    idle = _idle(servers)
    runs: dict[str, list[dict[str, dict[str, Any]]]] = {name: [] for name in servers}
    for _, name, _ in alternated([(name, Path()) for name in servers], rounds):
        server, bodies = servers[name]
        runs[name].append(_phase(server, bodies, token, seconds, rates))
    medians = {
        name: {
            rate: {
                k: statistics.median(p[rate][k] for p in phases)
                for k in phases[0][rate]
                if k != "errors"
            }
            for rate in rates
        }
        for name, phases in runs.items()
    }
    return {
        "rounds": rounds,
        "seconds": seconds,
        "phases": runs,
        "errors": sum(
            p[rate]["errors"] for phases in runs.values() for p in phases for rate in rates
        ),
        "medians": medians,
        # each round's own pair (adjacent phases): their spread is the minutes' noise
        "large_over_small_by_round": {
            rate: {
                k: [
                    round(large[rate][k] / small[rate][k], 3) if small[rate][k] else None
                    for small, large in zip(runs["small"], runs["large"], strict=True)
                ]
                for k in PAIRED
            }
            for rate in rates
        },
        "large_over_small": {
            rate: {
                k: round(medians["large"][rate][k] / v, 3)
                for k, v in medians["small"][rate].items()
                if v
            }
            for rate in rates
        },
        "idle_cpu_ms_per_s": idle,
        "peak_rss_mb": {name: round(s.peak_rss_mb(), 1) for name, (s, _) in servers.items()},
    }


def _idle(servers: Mapping[str, tuple[Server, Path]], seconds: float = 5) -> dict[str, Any]:
    """Each responder's CPU with no check coming (its scans, its consumer, its relay),
    and its Postgres backends', in ms per second over `seconds`: a size's background
    cost weighs on both sizes' phases side by side, so it is measured apart."""
    before = {n: (cpu_seconds(s.pid), _backends_of(s.pid)) for n, (s, _) in servers.items()}
    started = time.monotonic()
    time.sleep(seconds)
    after = {n: (cpu_seconds(s.pid), _backends_of(s.pid)) for n, (s, _) in servers.items()}
    elapsed = time.monotonic() - started
    return {
        name: {
            "responder": round(1000 * (after[name][0] - cpu0) / elapsed, 2),
            "postgres": round(
                1000 * sum(c - backends0.get(p, 0.0) for p, c in after[name][1].items()) / elapsed,
                2,
            ),
        }
        for name, (cpu0, backends0) in before.items()
    }


def main(
    small: int = 10_000,
    large: int = 1_000_000,
    seconds: float = 8,
    rounds: int = 4,
    rates: tuple[str, ...] = RATES,
) -> None:
    env_db = os.environ["DATABASE_URL"]
    admin = os.environ.get("DATABASE_ADMIN_URL", env_db)
    kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    dsn = env_db.replace("postgresql+asyncpg://", "postgresql://", 1)
    admin_dsn = admin.replace("+asyncpg", "", 1)
    suffixes = {"small": "_" + unique("szs"), "large": "_" + unique("szl")}
    topics = "." + unique("sz")
    specs = tuple(TopicSpec(t.name + topics, t.configs) for t in TOPICS)
    asyncio.run(kafka_admin.ensure_topics(kafka, 3, specs))
    tmp = Path(tempfile.mkdtemp(prefix="jsb-check-sizes-"))
    token = secrets.token_urlsafe(16)
    (tmp / "tokens.json").write_text(json.dumps({check_data.DEPARTMENT: token}))
    servers: dict[str, tuple[Server, Path]] = {}
    try:
        for name, size in (("small", small), ("large", large)):
            suffix = suffixes[name]
            role = os.environ.get("JSB_SERVICE_ROLE", "jsb")
            upgrade_all(url=admin, schema_suffix=suffix, role=role)
            schema = "responder" + suffix
            asked = check_data.prepare(dsn, admin_dsn, schema, size)
            bodies = asked.write_bodies(tmp / f"bodies-{name}.jsonl")
            server = check_data.responder(schema, topics, tmp / "tokens.json", tmp / f"{name}.log")
            server.start()
            servers[name] = (server, bodies)
            check_data.wait_index_loaded(server.url, max(size, len(asked.blocked)))
            check_data.wait_ready(server.url)
        measured = side_by_side(servers, token, seconds, rounds, rates)
        print(json.dumps({"machine": describe(), "small": small, "large": large, **measured}))
    finally:
        for server, _ in servers.values():
            server.stop()
        for suffix in suffixes.values():
            drop_schemas(admin, suffix)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        int(args[0]) if args else 10_000,
        int(args[1]) if len(args) > 1 else 1_000_000,
        float(args[2]) if len(args) > 2 else 8,
        int(args[3]) if len(args) > 3 else 4,
        tuple(args[4].split(",")) if len(args) > 4 else RATES,
    )
