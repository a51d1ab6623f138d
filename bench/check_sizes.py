"""Does a check cost more with more subjects in the index? Two responders side by side:
`python -m bench.check_sizes [small] [large] [seconds] [rounds]`.

Why: the check bench measures its sizes one after the other, minutes apart, and on this
shared machine the CPU per check of the same code moves by 10-20 % between two phases
(docs/benchmarks.md, "Check API"): its 1,000,000-over-10,000 figures say as much about
the minutes as about the size. Here both sizes (default 10,000 and 1,000,000 restricted
subjects, each in a fresh schema of its own, filled and settled as the check bench does:
bench/check_data.py) are served at once by two responder processes with their indexes
loaded, and wrk loads them in turn, `rounds` times (default 4), the order swapped every
round (bench/trees.py), `seconds` each (default 8) at the maximum rate (32 connections,
a blocked and an unlisted subject in turn). Each phase gives the responder's CPU per
check (user and system), the rate, p50 / p99, and its journal's groups (statement time,
checks per group). Prints one JSON line: every round, the medians and large over small.
`small` equal to `large` is the control (the same size twice)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import check_data, check_waits, wrk
from bench.machine import describe
from bench.profile_checks import _user_system
from bench.servers import Server
from bench.trees import alternated
from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.topics import TOPICS, TopicSpec
from tests.conftest import drop_schemas
from tests.support.infra import unique

CONNECTIONS = 32


def _phase(server: Server, bodies: Path, token: str, seconds: float) -> dict[str, Any]:
    wrk.run(server.url, bodies, token, connections=CONNECTIONS, duration_s=1)  # warm-up
    split0, waited = _user_system(server.pid), check_waits.snapshot(server.url)
    result = wrk.run(server.url, bodies, token, connections=CONNECTIONS, duration_s=seconds)
    user, system = (b - a for a, b in zip(split0, _user_system(server.pid), strict=True))
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
        "group_ms": waits["responder_check_group_seconds"]["mean"],
        "checks_per_group": waits["responder_check_group_size"]["mean"],
    }


def main(small: int = 10_000, large: int = 1_000_000, seconds: float = 8, rounds: int = 4) -> None:
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
        runs: dict[str, list[dict[str, Any]]] = {"small": [], "large": []}
        order = [("small", tmp), ("large", tmp)]
        for _, name, _ in alternated(order, rounds):
            server, bodies = servers[name]
            runs[name].append(_phase(server, bodies, token, seconds))
        medians = {
            name: {
                k: statistics.median(r[k] for r in measured) for k in measured[0] if k != "errors"
            }
            for name, measured in runs.items()
        }
        print(
            json.dumps(
                {
                    "machine": describe(),
                    "small": small,
                    "large": large,
                    "rounds": runs,
                    "medians": medians,
                    "large_over_small": {
                        k: round(medians["large"][k] / medians["small"][k], 3)
                        for k in medians["small"]
                        if medians["small"][k]
                    },
                    "peak_rss_mb": {n: round(s.peak_rss_mb(), 1) for n, (s, _) in servers.items()},
                }
            )
        )
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
    )
