"""The responder's own CPU per check, in process, without the network, the server or
Postgres: `python -m bench.check_path [checks] [rounds] [commit-before]`.

Why: on this shared 2-core machine the HTTP benches' CPU per check moves by ~10 %
between rounds of the same code (docs/benchmarks.md), more than most single changes
to the check path save. Here one process drives the check path as the app stacks it —
the request measure, the body guard, the fast path (token, body, identifier, the
in-process index, the answer and its record), the group commit (`CheckJournal`, its
group JSON and histograms) over a stand-in connection whose statement does nothing —
with 32 concurrent callers, a blocked and an unlisted subject in turn (as the check
bench), and counts the process's CPU seconds (user + system) per check.

With `commit-before`, that commit's tree (`git archive`) and this checkout run in
turn, `rounds` times (default 5), each round in a fresh process, the order swapped
every round (bench/trees.py); prints the medians and the ratio. Without it, one run of
this checkout. What it leaves out, every HTTP bench includes: uvicorn and httptools,
Starlette's own middlewares, the asyncpg protocol, the relay (its sends:
bench/producer_sends.py). `JSB_CHECK_PATH_FILLER=N` adds N restricted subjects to the
index (never asked about; loaded and frozen as at start-up): the index's size alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

CALLERS = 32
DEPARTMENT = "caac"
MEASURE = "travel.restrict_flight"
SUBJECTS = 1000


class _Connection:
    """asyncpg's connection as the journal uses it; the statement does nothing."""

    async def execute(self, *args: Any) -> str:
        await asyncio.sleep(0)
        return "INSERT 0 1"


class _Pool:
    async def acquire(self) -> _Connection:
        return _Connection()

    async def release(self, conn: _Connection) -> None:
        return None


async def _route(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("an ordinary check reached the FastAPI route")


def _stack(journal: Any) -> tuple[Any, list[bytes], str]:
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from starlette.datastructures import State

    from services.responder.fast_check import FastCheck
    from services.responder.live_index import IndexChanges, LiveIndex
    from services.responder.metrics import ResponderMetrics
    from services.responder.restriction_index import IndexRow
    from shared.adapters.observability import BackboneMetrics
    from shared.domain.catalogue.index import default_index
    from shared.web.auth import TokenRegistry
    from shared.web.body_guard import JsonBodyGuard
    from shared.web.measure import RequestMeasure
    from tests.support.subjects import new_uscc

    live = LiveIndex(frozenset({DEPARTMENT}))
    since = datetime.now(UTC) - timedelta(days=1)
    blocked = [new_uscc() for _ in range(SUBJECTS)]
    rows = {
        s: [IndexRow(DEPARTMENT, s, MEASURE, uuid4(), "court.dishonest-debtor", since, None, 0)]
        for s in blocked
    }
    live.apply(IndexChanges(rows=rows, identifiers=[(s, s) for s in blocked]))
    _fill(live, int(os.environ.get("JSB_CHECK_PATH_FILLER", "0")), since.timestamp())
    live.loaded = True
    token = "bench-" + uuid4().hex
    state = State(
        {
            "index": SimpleNamespace(live=live),
            "tokens": TokenRegistry({DEPARTMENT: token}),
            "hosting": SimpleNamespace(departments=frozenset({DEPARTMENT})),
            "catalogue": default_index(),
            "freshness": SimpleNamespace(caught_up_at=datetime.now(UTC)),
            "settings": SimpleNamespace(topic_suffix=".bench"),
            "check_journal": journal,
            "responder_metrics": ResponderMetrics.on(),
        }
    )
    owner = SimpleNamespace(state=state, routes=[SimpleNamespace(path="/v1/checks")])
    registry = CollectorRegistry()
    requests: Any
    latency: Any
    try:  # the app's own request metrics (trees from session 9 on)
        from shared.web.service_app import request_metrics

        requests, latency = request_metrics(registry)
    except ImportError:  # an older tree: the library's metrics, as its app made them
        requests = Counter("http_requests", "", ["method", "route", "status"], registry=registry)
        latency = Histogram("http_request_seconds", "", ["method", "route"], registry=registry)
    app = RequestMeasure(
        JsonBodyGuard(FastCheck(_route, owner)),  # type: ignore[arg-type]
        requests=requests,
        latency=latency,
        backbone=BackboneMetrics(registry),
    )
    bodies = []
    for s in blocked:
        bodies.append(json.dumps({"subject_id": s, "measure": MEASURE}).encode())
        bodies.append(json.dumps({"subject_id": new_uscc(), "measure": MEASURE}).encode())
    return app, bodies, token


def _fill(live: Any, subjects: int, since: float) -> None:
    """`subjects` more restricted subjects (the check bench's fillers, never asked
    about), each row merged as `live_index.load` merges what it reads, then the heap
    frozen as the load freezes it: the index at the check bench's sizes, in process."""
    if not subjects:
        return
    import gc
    import math

    gc.disable()
    pair, word = live.pair(DEPARTMENT, MEASURE), live.word("court.dishonest-debtor")
    for n in range(subjects):
        subject = "B" + str(n).rjust(17, "0")
        live.add_identifier(subject, subject)
        live.merge(subject, pair, uuid4(), word, since, math.inf, 0)
    live.settle()
    gc.enable()
    gc.freeze()


async def _phase(checks: int) -> dict[str, Any]:
    from services.responder.check_journal import CheckJournal
    from services.responder.metrics import ResponderMetrics

    metrics = ResponderMetrics.on()
    journal = CheckJournal(_Pool(), writers=3, observe=metrics.observe_group)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(journal.run(stop))
    await asyncio.sleep(0)
    app, bodies, token = _stack(journal)
    statuses: dict[int, int] = {}

    async def caller(k: int, n: int) -> None:
        for i in range(n):
            body = bodies[(k * 7919 + i) % len(bodies)]
            headers = [
                (b"host", b"127.0.0.1:8000"),
                (b"authorization", f"Bearer {token}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            scope = {
                "type": "http",
                "method": "POST",
                "path": "/v1/checks",
                "query_string": b"",
                "headers": headers,
            }
            sent = False

            async def receive(body: bytes = body) -> dict[str, Any]:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses[message["status"]] = statuses.get(message["status"], 0) + 1

            await app(scope, receive, send)

    await asyncio.gather(*(caller(k, 100) for k in range(CALLERS)))  # warm-up
    per = checks // CALLERS
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(caller(k, per) for k in range(CALLERS)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    stop.set()
    await running
    assert set(statuses) == {200}, statuses
    done = per * CALLERS
    return {
        "checks": done,
        "cpu_us_per_check": round(1e6 * cpu / done, 2),
        "wall_us_per_check": round(1e6 * wall / done, 2),
        "checks_per_group": round(journal.written / max(journal.groups, 1), 2),
    }


def _run_phase(tree: Path, checks: int) -> dict[str, Any]:
    from bench.trees import phase_result

    env = {**os.environ, "PYTHONPATH": str(tree)}
    return phase_result([sys.executable, __file__, "--phase", str(checks)], tree, env)


def main(checks: int = 64_000, rounds: int = 5, before: str | None = None) -> None:
    if before is None:
        print(json.dumps(asyncio.run(_phase(checks))))
        return
    from bench.trees import alternated, export
    from shared.adapters.settings import PROJECT_ROOT

    with tempfile.TemporaryDirectory(prefix="jsb-check-path-") as tmp:
        trees = [("before", export(before, Path(tmp) / "before")), ("after", PROJECT_ROOT)]
        results: dict[str, list[float]] = {"before": [], "after": []}
        for _, name, tree in alternated(trees, rounds):
            results[name].append(_run_phase(tree, checks)["cpu_us_per_check"])
    median = {name: statistics.median(v) for name, v in results.items()}
    print(
        json.dumps(
            {
                "before": before,
                "checks": checks,
                "rounds": results,
                "cpu_us_per_check": median,
                "after_over_before": round(median["after"] / median["before"], 3),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--phase"]:
        print(json.dumps(asyncio.run(_phase(int(sys.argv[2])))))
    else:
        args = sys.argv[1:]
        main(
            int(args[0]) if args else 64_000,
            int(args[1]) if len(args) > 1 else 5,
            args[2] if len(args) > 2 else None,
        )
