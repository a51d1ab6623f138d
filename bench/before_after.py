"""The check API before and after issue 11, in one run, on the same data:

    python -m bench.before_after <commit-before> [subjects] [seconds] [rounds] [log level]

`subjects` court debtors (default 1,000) are designated through the responder's real
ingest (so the old code has the event history it folds, and the new one its index);
then the bare baseline app, the responder of `<commit-before>` (exported with
`git archive` to a temporary directory) and the responder of this checkout each take
the same wrk load (32 connections, a blocked and an allowed subject in turn, all the
services' uvicorn settings), `rounds` times in turn (default 1; each figure is then the
median of the rounds: on a shared machine one round says as much about the minute it ran
in as about the code). The responders log at `log level` (default WARNING, as the bench;
the services' own default, INFO, writes a line per request). `JSB_BENCH_AFTER_ENV`, a JSON
object of environment variables, is given to the checkout's responder only: with the
same commit on both sides, a setting is compared with its default the same way. Prints
one JSON line; docs/benchmarks.md keeps the figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import wrk
from bench.machine import describe
from bench.servers import Server, cpu_seconds
from bench.trees import export
from shared.adapters import kafka_admin
from shared.adapters.db import make_engine
from shared.adapters.migrations import upgrade_all
from shared.adapters.settings import PROJECT_ROOT
from shared.adapters.topics import TOPICS, TopicSpec
from tests.conftest import drop_schemas
from tests.support.infra import unique
from tests.support.responder_harness import Harness, hosting, issue_command, run
from tests.support.stack import free_port
from tests.support.subjects import new_resident_id
from tests.unit.domain_fixtures import Subject

COURT = "court.dishonest-debtor"
MEASURE = "travel.restrict_flight"


async def _designate(database_url: str, schema: str, n: int) -> list[str]:
    engine = make_engine(database_url, schema=schema)
    harness = Harness(engine, hosting(departments="caac"), "")
    await harness.ensure()
    subjects: list[str] = []
    try:
        for start in range(0, n, 200):
            batch = []
            for _ in range(min(200, n - start)):
                subject = Subject(new_resident_id())
                batch.extend(run(subject, issue_command(subject.subject_id, COURT, "court")))
                subjects.append(subject.subject_id)
            await harness.feed(batch)
    finally:
        await engine.dispose()
    return subjects


def _load(server: Server, bodies: Path, token: str, seconds: float) -> dict[str, Any]:
    wrk.run(server.url, bodies, token, duration_s=2)
    cpu0 = cpu_seconds(server.pid)
    result = wrk.run(server.url, bodies, token, duration_s=seconds)
    cpu = cpu_seconds(server.pid) - cpu0
    return {
        **result.as_dict(),
        "server_cpu_ms_per_request": round(1000 * cpu / max(result.requests, 1), 3),
        "peak_rss_mb": round(server.peak_rss_mb(), 1),
    }


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds (every round's figures kept under `runs`)."""
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    return {
        **{k: statistics.median(r[k] for r in runs) for k in keys},
        "runs": [{k: r[k] for k in ("requests_per_s", "server_cpu_ms_per_request")} for r in runs],
    }


def main(
    before: str, n: int = 1000, seconds: float = 10.0, rounds: int = 1, log_level: str = "WARNING"
) -> None:
    database_url = os.environ["DATABASE_URL"]
    admin = os.environ.get("DATABASE_ADMIN_URL", database_url)
    kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    suffix, topics = "_" + unique("ba"), "." + unique("ba")
    specs = tuple(TopicSpec(t.name + topics, t.configs) for t in TOPICS)
    asyncio.run(kafka_admin.ensure_topics(kafka, 3, specs))
    upgrade_all(url=admin, schema_suffix=suffix, role=os.environ.get("JSB_SERVICE_ROLE", "jsb"))
    schema = "responder" + suffix
    tmp = Path(tempfile.mkdtemp(prefix="jsb-before-after-"))
    old = export(before, tmp / "before")
    try:
        blocked = asyncio.run(_designate(database_url, schema, n))
        allowed = [new_resident_id() for _ in blocked]
        bodies = tmp / "bodies.jsonl"
        bodies.write_text(
            "".join(
                json.dumps({"subject_id": b, "measure": MEASURE})
                + "\n"
                + json.dumps({"subject_id": a, "measure": MEASURE})
                + "\n"
                for b, a in zip(blocked, allowed, strict=True)
            )
        )
        token = secrets.token_urlsafe(16)
        (tmp / "tokens.json").write_text(json.dumps({"caac": token}))
        env = {
            "JSB_TOKENS_FILE": str(tmp / "tokens.json"),
            "JSB_TOPIC_SUFFIX": topics,
            "JSB_RESPONDER_DB_SCHEMA": schema,
            "JSB_RESPONDER_DEPARTMENTS": "caac",
            "JSB_LOG_LEVEL": log_level,
        }
        after_env: dict[str, str] = json.loads(os.environ.get("JSB_BENCH_AFTER_ENV", "{}"))
        no_env: dict[str, str] = {}
        results: dict[str, Any] = {
            "machine": describe(),
            "subjects": n,
            "before": before,
            "log_level": log_level,
            "after_env": after_env,
        }
        runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "before": [], "after": []}
        for _ in range(rounds):  # interleaved: each round sees the machine's load of its minute
            for name, app, cwd, extra in (
                ("baseline", "bench.baseline_app:app", PROJECT_ROOT, no_env),
                ("before", "services.responder.app:app", old, no_env),
                ("after", "services.responder.app:app", PROJECT_ROOT, after_env),
            ):
                server = Server(app, free_port(), {**env, **extra}, tmp / f"{name}.log", cwd=cwd)
                server.start()
                time.sleep(1.0)
                try:
                    runs[name].append(_load(server, bodies, token, seconds))
                finally:
                    server.stop()
        for name, measured in runs.items():
            results[name] = _median(measured)
        base = results["baseline"]["requests_per_s"]
        for name in ("before", "after"):
            results[name]["ratio_to_baseline"] = round(results[name]["requests_per_s"] / base, 3)
        results["after_over_before"] = round(
            results["after"]["requests_per_s"] / results["before"]["requests_per_s"], 2
        )
        results["after_over_before_cpu"] = round(
            results["after"]["server_cpu_ms_per_request"]
            / results["before"]["server_cpu_ms_per_request"],
            2,
        )
        results["rounds"] = rounds
        print(json.dumps(results))
    finally:
        drop_schemas(admin, suffix)


if __name__ == "__main__":
    main(
        sys.argv[1],
        int(sys.argv[2]) if len(sys.argv) > 2 else 1000,
        float(sys.argv[3]) if len(sys.argv) > 3 else 10.0,
        int(sys.argv[4]) if len(sys.argv) > 4 else 1,
        sys.argv[5] if len(sys.argv) > 5 else "WARNING",
    )
