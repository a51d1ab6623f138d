"""The check API (`POST /v1/checks`) under load, against a bare FastAPI endpoint.

One responder process (hosting one department, as in production) holds N restricted
subjects in its restriction index; wrk, in its own process, sends checks over 32
connections, a blocked and an allowed subject in turn. Baseline, measured in the same
run just before each size: `bench/baseline_app.py`, a bare FastAPI endpoint on the same
path returning a constant, under the same uvicorn settings. At each size: the maximum
rate (closed loop), then latency at half of that rate (each connection paced by wrk's
`delay()`), and the responder's peak RSS; at the sizes after the first, its latency
also at the first size's half rate (the same offered load). Each fill is followed by
VACUUM and CHECKPOINT (`JSB_BENCH_CHECK_SETTLE=0`: not), so that a size is measured
with the database at rest (check_data.settle says why). Sizes: `JSB_BENCH_CHECK_SIZES` (default
10,000 and 1,000,000), `JSB_BENCH_CHECK_SECONDS` per run (default 10).

Then the sizes side by side, the figure for "latency at 1,000,000 within 1.2× of
10,000": the sequential phases are minutes apart (the largest after a million-row fill,
its VACUUM and CHECKPOINT and its index load), and on this shared machine the same code
moves 10-20 % between two minutes. The last size's responder stays up with its index
loaded; a second responder serves the first size from a schema of its own (filled and
settled the same way, its own topics and consumer group), and wrk loads them in turn
(bench.check_sizes.side_by_side): `JSB_BENCH_CHECK_SIDE_ROUNDS` rounds (default 4, the
order swapped every round), each size at its maximum rate then at half of it,
`JSB_BENCH_CHECK_SIDE_SECONDS` each (default 8); medians and large over small
(`side_by_side` in the result; 0 rounds: skipped). The sequential ratios stay, as
`sequential_large_over_small`.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import check_data, check_waits, wrk
from bench.check_sizes import side_by_side
from bench.machine import describe
from bench.servers import Server, cpu_seconds
from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade
from shared.adapters.topics import TOPICS, TopicSpec
from tests.bench.report import record
from tests.conftest import drop_schemas
from tests.support.infra import Infra, unique
from tests.support.stack import free_port

pytestmark = pytest.mark.bench

SIZES = tuple(int(s) for s in os.environ.get("JSB_BENCH_CHECK_SIZES", "10000,1000000").split(","))
SECONDS = float(os.environ.get("JSB_BENCH_CHECK_SECONDS", "10"))
CONNECTIONS = 32
SETTLE = os.environ.get("JSB_BENCH_CHECK_SETTLE", "1") != "0"
"""VACUUM and CHECKPOINT after each fill (check_data.settle); 0: measure right after."""
SIDE_ROUNDS = int(os.environ.get("JSB_BENCH_CHECK_SIDE_ROUNDS", "4"))
SIDE_SECONDS = float(os.environ.get("JSB_BENCH_CHECK_SIDE_SECONDS", "8"))


def _measure(server: Server, bodies: Path, token: str, responder: bool = False) -> dict[str, Any]:
    """Max rate, then half of it; for the responder, where its checks waited in each
    (bench/check_waits.py: latency as served, journal queue, group statement)."""
    wrk.run(server.url, bodies, token, connections=CONNECTIONS, duration_s=2)  # warm-up

    def probe() -> check_waits.Snapshot:
        return check_waits.snapshot(server.url) if responder else {}

    cpu0, at_start = cpu_seconds(server.pid), probe()
    peak = wrk.run(server.url, bodies, token, connections=CONNECTIONS, duration_s=SECONDS)
    cpu, at_peak = cpu_seconds(server.pid) - cpu0, probe()
    half_rate = peak.requests_per_s / 2
    delay_ms = max(1, round(CONNECTIONS * 1000 / half_rate))
    half = wrk.run(
        server.url, bodies, token, connections=CONNECTIONS, duration_s=SECONDS, delay_ms=delay_ms
    )
    at_end = probe()
    return {
        "max": {**peak.as_dict(), "waits": check_waits.waits(at_start, at_peak)},
        "half": {
            **half.as_dict(),
            "target_per_s": round(half_rate, 1),
            "delay_ms": delay_ms,
            "waits": check_waits.waits(at_peak, at_end),
        },
        "server_cpu_ms_per_request": round(1000 * cpu / max(peak.requests, 1), 3),
        "peak_rss_mb": round(server.peak_rss_mb(), 1),
    }


def _paced(server: Server, bodies: Path, token: str, delay_ms: int) -> dict[str, Any]:
    """Latency at a given pacing (another size's half rate): at half of each size's own
    maximum the offered load differs when the maxima do (the machine's share moves
    them by 1.5x between phases), and latency follows the offered load."""
    before = check_waits.snapshot(server.url)
    paced = wrk.run(
        server.url, bodies, token, connections=CONNECTIONS, duration_s=SECONDS, delay_ms=delay_ms
    )
    return {
        **paced.as_dict(),
        "delay_ms": delay_ms,
        "waits": check_waits.waits(before, check_waits.snapshot(server.url)),
    }


def _group_commit(server: Server) -> dict[str, float]:
    """The check journal's group commits over the whole run: mean statement time and
    mean checks per group (from the responder's histograms)."""
    values: dict[str, float] = {}
    for line in httpx.get(server.url + "/metrics", timeout=10).text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith("responder_check_group_") and name.endswith(("_sum", "_count")):
            values[name] = float(value)
    groups = max(values.get("responder_check_group_seconds_count", 0.0), 1.0)
    return {
        "groups": groups,
        "mean_ms": round(1000 * values.get("responder_check_group_seconds_sum", 0.0) / groups, 2),
        "mean_checks": round(values.get("responder_check_group_size_sum", 0.0) / groups, 1),
    }


def _side_by_side(
    infra: Infra, env: dict[str, str], token: str, tmp_path: Path, large: Server, bodies: Path
) -> dict[str, Any]:
    """The first size served by a responder of its own beside `large` (the last size's,
    its index loaded), both measured in turn (bench.check_sizes.side_by_side); the
    first size's schema and topics are its own, and its consumer group (joining the
    large one's group would move partitions between them mid-run)."""
    small, size = SIZES[0], SIZES[-1]
    suffix, topics = "_" + unique("sbs"), "." + unique("sbs")
    schema = "responder" + suffix
    dsn = infra.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    admin_dsn = infra.admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    started = time.monotonic()
    specs = tuple(TopicSpec(t.name + topics, t.configs) for t in TOPICS)
    asyncio.run(kafka_admin.ensure_topics(infra.kafka, 3, specs))
    upgrade("responder", url=infra.admin_url, schema=schema, role=infra.service_role)
    server: Server | None = None
    try:
        asked = check_data.prepare(dsn, admin_dsn, schema, small)
        small_bodies = asked.write_bodies(tmp_path / "bodies-side.jsonl")
        side_env = {
            **env,
            "JSB_TOPIC_SUFFIX": topics,
            "JSB_RESPONDER_DB_SCHEMA": schema,
            "JSB_RESPONDER_GROUP_ID": "jsb.responder" + topics,
        }
        server = Server(
            "services.responder.app:app", free_port(), side_env, tmp_path / "responder-side.log"
        )
        server.start()
        check_data.wait_index_loaded(server.url, max(small, len(asked.blocked)))
        check_data.wait_ready(server.url)  # caught up with its fresh topics: no 503
        setup_s = time.monotonic() - started
        measured = side_by_side(
            {"small": (server, small_bodies), "large": (large, bodies)},
            token,
            SIDE_SECONDS,
            SIDE_ROUNDS,
        )
        return {
            "small": small,
            "large": size,
            "setup_seconds": round(setup_s, 1),
            "seconds_total": round(time.monotonic() - started, 1),
            **measured,
        }
    finally:
        if server is not None:
            server.stop()
        if not os.environ.get("JSB_KEEP_TEST_DATA"):
            drop_schemas(infra.admin_url, suffix)


def test_check_api_against_a_bare_endpoint(
    infra: Infra, topic_suffix: str, schema_suffix: str, tmp_path: Path
) -> None:
    schema = "responder" + schema_suffix
    dsn = infra.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    admin_dsn = infra.admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    token = secrets.token_urlsafe(16)
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({check_data.DEPARTMENT: token}))
    asked = asyncio.run(check_data.asked_subjects(dsn, schema))
    bodies = asked.write_bodies(tmp_path / "bodies.jsonl")
    env = {
        "DATABASE_URL": infra.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        "JSB_TOKENS_FILE": str(tokens),
        "JSB_TOPIC_SUFFIX": topic_suffix,
        "JSB_RESPONDER_DB_SCHEMA": schema,
        "JSB_RESPONDER_DEPARTMENTS": check_data.DEPARTMENT,
        "JSB_LOG_LEVEL": "WARNING",
    }
    results: dict[str, Any] = {"machine": describe(), "connections": CONNECTIONS, "sizes": {}}
    loaded = len(asked.blocked)
    first_delay_ms: int | None = None
    side = len(SIZES) >= 2 and SIDE_ROUNDS > 0
    kept: Server | None = None
    try:
        for size in SIZES:
            load_s = asyncio.run(check_data.fill(dsn, schema, loaded, size))
            settle_s = asyncio.run(check_data.settle(admin_dsn, schema)) if SETTLE else None
            loaded = max(loaded, size)
            baseline = Server("bench.baseline_app:app", free_port(), env, tmp_path / "baseline.log")
            baseline.start()
            try:
                base = _measure(baseline, bodies, token)
            finally:
                baseline.stop()
            before = asyncio.run(check_data.decisions(dsn, schema))
            responder = Server(
                "services.responder.app:app", free_port(), env, tmp_path / f"responder-{size}.log"
            )
            responder.start()
            try:
                index_load_s = check_data.wait_index_loaded(responder.url, loaded)
                ours = _measure(responder, bodies, token, responder=True)
                ours["group_commit"] = _group_commit(responder)
                if first_delay_ms is None:
                    first_delay_ms = ours["half"]["delay_ms"]
                else:  # the first size's half rate: the same offered load at both sizes
                    ours["first_half_rate"] = _paced(responder, bodies, token, first_delay_ms)
                # every answered check is committed (the journal answers after its group)
                after = asyncio.run(check_data.decisions(dsn, schema))
            finally:
                if side and size == SIZES[-1]:
                    kept = responder  # served side by side below, with its index loaded
                else:
                    responder.stop()
            made = {
                k: after.get(k, 0) - before.get(k, 0) for k in ("block", "allow", "interceptions")
            }
            assert ours["max"]["errors"] == 0, responder.log_path.read_text()[-3000:]
            assert made["interceptions"] == made["block"]
            assert abs(made["block"] - made["allow"]) <= CONNECTIONS * 2 + made["block"] // 50
            results["sizes"][str(size)] = {
                "subjects": size,
                "load_seconds": round(load_s, 1),
                "db_settle_seconds": None if settle_s is None else round(settle_s, 1),
                "index_load_seconds": round(index_load_s, 1),
                "baseline": base,
                "responder": ours,
                "checks_recorded": made,
                "ratio_max_rate": round(
                    ours["max"]["requests_per_s"] / base["max"]["requests_per_s"], 3
                ),
                "ratio_p99_half_rate": round(ours["half"]["p99_ms"] / base["half"]["p99_ms"], 2),
            }
        if len(SIZES) >= 2:
            small, large = (results["sizes"][str(s)]["responder"] for s in (SIZES[0], SIZES[-1]))
            results["sequential_large_over_small"] = {
                "p50_half_rate": round(large["half"]["p50_ms"] / small["half"]["p50_ms"], 2),
                "p99_half_rate": round(large["half"]["p99_ms"] / small["half"]["p99_ms"], 2),
                "max_rate": round(
                    large["max"]["requests_per_s"] / small["max"]["requests_per_s"], 2
                ),
                "p50_same_rate": round(
                    large["first_half_rate"]["p50_ms"] / small["half"]["p50_ms"], 2
                ),
                "p99_same_rate": round(
                    large["first_half_rate"]["p99_ms"] / small["half"]["p99_ms"], 2
                ),
            }
        if kept is not None:
            results["side_by_side"] = _side_by_side(infra, env, token, tmp_path, kept, bodies)
    finally:
        if kept is not None:
            kept.stop()
    record("checks", results)
    assert results.get("side_by_side", {}).get("errors", 0) == 0, "wrk errors side by side"
