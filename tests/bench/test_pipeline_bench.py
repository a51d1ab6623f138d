"""The pipeline (issue 11, part 3): N court debtors (the full bundle at its level, an
organisation with its legal representative every tenth) through
`POST /v1/designations/batch` → initiator → Kafka → every responder department (auto
mode) → ledger, timed from the first request until every task's feedback is in the
ledger and every status is published (bench/pipeline.py says how that is read). Two
sizes 10× apart (`JSB_BENCH_PIPELINE_SIZES`), a fresh stack of the four services for
each (tests/support/initiator_stack.py), peak RSS and CPU of every service, and the
machine's split over each run (`machine_cpu`: the Postgres backends serving the four
services, Postgres's background writers, the Kafka broker; bench/machine_cpu.py).

Then, on the larger size's stack, a paced run at half the rate just measured: the
latency from each designation's 201 to its last feedback in the ledger.

Baseline, same run, same broker: Kafka's `ProducerPerformance` and
`ConsumerPerformance` for as many records of the mean size of the run's feedback and
lifecycle events (bench/kafka_perf.py).

`JSB_BENCH_PIPELINE_PROFILE=DIR`: py-spy records every service during the larger run
(speedscope files in DIR; `python -m bench.hotspots FILE` summarises one).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bench import pipeline
from bench.kafka_perf import consumer_perf, producer_perf, tools_resolved
from bench.machine_cpu import MachineCpu, machine_split
from bench.servers import cpu_seconds, peak_rss_mb
from shared.adapters import kafka_admin
from shared.adapters.topics import TopicSpec
from tests.bench.report import record
from tests.support.infra import Infra, unique
from tests.support.initiator_stack import own_stack
from tests.support.stack import Stack

pytestmark = pytest.mark.bench

SIZES = tuple(int(s) for s in os.environ.get("JSB_BENCH_PIPELINE_SIZES", "100,1000").split(","))
PROFILE_DIR = os.environ.get("JSB_BENCH_PIPELINE_PROFILE")
PACED_S = float(os.environ.get("JSB_BENCH_PIPELINE_PACED_S", "40"))
"""How long the paced run offers its load (at half the rate just measured)."""
TIMEOUT_S = float(os.environ.get("JSB_BENCH_PIPELINE_TIMEOUT_S", "1500"))


def _pid(stack: Stack, name: str) -> int:
    proc = stack.services[name].proc
    assert proc is not None
    return proc.pid


def _profile(stack: Stack, seconds: int, out: Path) -> list[threading.Thread]:
    spy = str(Path(sys.executable).with_name("py-spy"))
    threads = []
    for name in stack.services:
        cmd = [spy, "record", "--pid", str(_pid(stack, name)), "--duration", str(seconds)]
        cmd += ["--rate", "50", "--format", "speedscope", "-o", str(out / f"{name}.json")]
        t = threading.Thread(
            target=subprocess.run, args=(cmd,), kwargs={"capture_output": True}, daemon=True
        )
        t.start()
        threads.append(t)
    return threads


def _run(stack: Stack, infra: Infra, n: int, run: int, rate: float | None) -> dict[str, Any]:
    bodies = pipeline.court_list(n, run)
    before = pipeline.current(infra.admin_url, stack.schema_suffix)
    schemas = {name: name + stack.schema_suffix for name in stack.services}
    with MachineCpu(pipeline.pg_url(infra.admin_url), schemas, kafka=infra.kafka) as machine:
        cpu0 = {name: cpu_seconds(_pid(stack, name)) for name in stack.services}
        sent = pipeline.send(
            stack.url("initiator"),
            stack.tokens["court"],
            bodies,
            chunk=500 if rate is None else 25,
            rate=rate,
        )
        assert not sent.rejected, sent.rejected[:3]
        done, done_at = pipeline.wait_done(infra.admin_url, stack.schema_suffix, TIMEOUT_S)
        assert done.done, done
        cpu = {name: cpu_seconds(_pid(stack, name)) - cpu0[name] for name in stack.services}
    seconds = done_at - sent.first_request
    latencies = pipeline.latencies(infra.admin_url, stack.schema_suffix, sent)
    tasks = done.ledger_tasks - before.ledger_tasks
    events = done.ledger_events - before.ledger_events
    return {
        "debtors": n,
        "designations": done.designations - before.designations,
        "tasks": tasks,
        "ledger_events": events,
        "accepted_s": round(sent.last_response - sent.first_request, 2),
        "fully_executed_s": round(seconds, 2),
        "designations_per_s": round((done.designations - before.designations) / seconds, 1),
        "task_reports_per_s": round(tasks / seconds, 1),
        "ledger_events_per_s": round(events / seconds, 1),
        "offered_rate_per_s": None if rate is None else round(rate, 1),
        "latency_p50_s": round(pipeline.percentile(latencies, 0.5), 3),
        "latency_p99_s": round(pipeline.percentile(latencies, 0.99), 3),
        "latency_max_s": round(latencies[-1], 3) if latencies else None,
        "cpu_s": {name: round(used, 1) for name, used in cpu.items()},
        "machine_cpu": machine_split(machine.result(), sum(cpu.values()), n, seconds),
    }


def _baseline(infra: Infra, sizes: dict[str, Any]) -> dict[str, Any]:
    """Kafka's own tools for the run's records: as many, of the same mean size."""
    out: dict[str, Any] = {}
    for family, row in sizes.items():
        topic = f"bench.pipeline.{unique()}"
        asyncio.run(kafka_admin.ensure_topics(infra.kafka, 3, (TopicSpec(topic, {}),)))
        n, size = int(row["n"]), int(row["bytes"])
        out[family] = {
            "records": n,
            "record_bytes": size,
            "producer_perf": producer_perf(infra.kafka, topic, n, size),
            "consumer_perf": consumer_perf(infra.kafka, topic, n),
        }
    return out


def test_court_lists_through_the_whole_pipeline(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if not tools_resolved():
        pytest.fail("kafka-tools not resolved: run deploy/scripts/kafka.sh jars")
    results: dict[str, Any] = {"sizes": {}, "load_average_start": os.getloadavg()}
    largest = max(SIZES)
    for k, n in enumerate(SIZES):
        workdir = tmp_path_factory.mktemp(f"pipeline{n}")
        with own_stack(infra, workdir, ready_timeout_s=240) as stack:
            spies = []
            if PROFILE_DIR and n == largest:
                Path(PROFILE_DIR).mkdir(parents=True, exist_ok=True)
                spies = _profile(stack, int(os.environ.get("JSB_BENCH_PROFILE_S", "60")),
                                 Path(PROFILE_DIR))  # fmt: skip
            run = _run(stack, infra, n, run=int(time.time()) % 40 + k, rate=None)
            for t in spies:
                t.join(timeout=120)
            run["peak_rss_mb"] = {
                name: round(peak_rss_mb(_pid(stack, name)), 1) for name in stack.services
            }
            sizes = pipeline.event_sizes(infra.admin_url, stack.schema_suffix)
            run["event_sizes"] = sizes
            run["kafka_baseline"] = _baseline(infra, sizes)
            produce = sum(
                b["records"] / b["producer_perf"]["records_per_s"]
                for b in run["kafka_baseline"].values()
            )
            consume = sum(
                b["records"] / b["consumer_perf"]["records_per_s"]
                for b in run["kafka_baseline"].values()
            )
            # The time Kafka's tools take to produce (consume) the run's records, over
            # the pipeline's time: the pipeline's share of the broker's own speed.
            run["ratio_to_producer_perf"] = round(produce / run["fully_executed_s"], 4)
            run["ratio_to_consumer_perf"] = round(consume / run["fully_executed_s"], 4)
            if n == largest:
                rate = run["designations_per_s"] / 2
                paced_n = max(20, min(n // 5, int(rate * PACED_S)))
                paced = _run(stack, infra, paced_n, run=int(time.time()) % 40 + 50, rate=rate)
                paced["peak_rss_mb"] = {
                    name: round(peak_rss_mb(_pid(stack, name)), 1) for name in stack.services
                }
                results["half_rate"] = paced
            results["sizes"][str(n)] = run
    record("pipeline", results)
