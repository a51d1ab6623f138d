"""The notifier in the pipeline, before and after a change, in one run:

    python -m bench.notifier_pipeline DEBTORS [--before COMMIT] [--rounds R] [--records OUT]

Each round runs the whole pipeline (tests/bench/test_pipeline_bench.py's court list of
DEBTORS through `POST /v1/designations/batch`, a fresh stack of the four services:
tests/support/initiator_stack.py) once with the notifier of `COMMIT` (exported with
`git archive`) and once with this checkout's, in turn; the other three services are
this checkout's in both. After the pipeline is done it waits until the notifier has
consumed every status the ledger published (its stored offsets at the topic's end), and
reads the CPU seconds every service used, the statuses the notifier logged and how
many bytes they carried. The figure: the notifier's process CPU per status message and
per debtor, beside the other services' CPU in the same run (the control: their code
is the same on both sides).

`--records OUT`: the first run's status topic written to OUT in bench/ledger_records.py's
format, for `python -m bench.notifier_ingest --records OUT` (the notifier's handler on
the pipeline's real stream, in process, with `--profile`).

Prints one JSON line per run, then a summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench import pipeline
from bench.servers import Server, cpu_seconds, peak_rss_mb
from bench.trees import export
from shared.adapters import topics
from shared.adapters.settings import PROJECT_ROOT
from tests.support.infra import Infra, discover
from tests.support.initiator_stack import own_stack
from tests.support.stack import Stack

CATCH_UP_S = 300.0
PARTITIONS = 3
"""Of every topic of tests/support/initiator_stack.py's stacks."""


async def _end_offsets(consumer: AIOKafkaConsumer, topic: str) -> dict[int, int]:
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    ends = await consumer.end_offsets(partitions)
    return {tp.partition: o for tp, o in ends.items()}


async def _notifier_state(
    url: str, schema: str, topic: str
) -> tuple[dict[int, int], tuple[int, int, int]]:
    """(stored offsets by partition, (statuses logged, their bytes, ingest batches))."""
    conn = await asyncpg.connect(pipeline.pg_url(url))
    try:
        offsets = await conn.fetch(
            f"SELECT partition, next_offset FROM {schema}.consumer_offsets WHERE topic = $1",  # noqa: S608
            topic,
        )
        row = await conn.fetchrow(
            # a batch's statuses share received_at: its transaction's now()
            "SELECT count(*), coalesce(sum(octet_length(body)), 0),"  # noqa: S608
            f" count(DISTINCT received_at) FROM {schema}.status_log"
        )
    finally:
        await conn.close()
    assert row is not None
    return {r["partition"]: r["next_offset"] for r in offsets}, (
        int(row[0]),
        int(row[1]),
        int(row[2]),
    )


async def _caught_up(infra: Infra, stack: Stack) -> tuple[int, int, int]:
    """Wait until the notifier's offsets reach the status topic's end; (logged, bytes,
    batches)."""
    topic = topics.STATUS + stack.topic_suffix
    schema = "notifier" + stack.schema_suffix
    deadline = time.monotonic() + CATCH_UP_S
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka)
    await consumer.start()
    try:
        while True:
            ends = await _end_offsets(consumer, topic)
            stored, logged = await _notifier_state(infra.admin_url, schema, topic)
            if ends and all(stored.get(p, 0) >= o for p, o in ends.items()):
                return logged
            if time.monotonic() > deadline:
                raise RuntimeError(f"the notifier did not catch up: {stored} of {ends}")
            await asyncio.sleep(0.25)
    finally:
        await consumer.stop()


async def _dump(bootstrap: str, topic: str, out: Path) -> int:
    """Every message of `topic` into `out` (bench/ledger_records.py's format)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    n = 0
    try:
        ends = await _end_offsets(consumer, topic)
        tps = [TopicPartition(topic, p) for p in ends]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        with out.open("wb") as f:
            while [tp for tp in tps if await consumer.position(tp) < ends[tp.partition]]:
                batch = await consumer.getmany(timeout_ms=1000, max_records=1000)
                for records in batch.values():
                    for r in records:
                        assert r.key is not None
                        assert r.value is not None
                        head = b"\t".join((topic.encode(), b"%d" % r.partition, b"%d" % r.offset))
                        f.write(head + b"\t" + r.key + b"\t" + r.value + b"\n")
                        n += 1
    finally:
        await consumer.stop()
    return n


def _notifier_from(stack: Stack, tree: Path, log: Path) -> Server:
    """The stack's notifier replaced by one imported from `tree`, same port and env."""
    svc = stack.services["notifier"]
    svc.stop()
    server = Server("services.notifier.app:app", svc.port, svc.env, log, cwd=tree)
    server.start(ready_path="/readyz", timeout_s=240)
    return server


def one_run(
    infra: Infra,
    workdir: Path,
    tree: Path,
    n: int,
    run: int,
    records: Path | None,
    profile: Path | None = None,
) -> dict[str, Any]:
    with own_stack(infra, workdir, ready_timeout_s=240) as stack:
        notifier = _notifier_from(stack, tree, workdir / "notifier-variant.log")
        try:
            pids = {name: svc.proc.pid for name, svc in stack.services.items() if svc.proc}
            pids["notifier"] = notifier.pid
            spy = None
            if profile is not None:  # py-spy on the notifier until it has caught up
                command = ["record", "-f", "speedscope", "-o", str(profile), "-r", "200"]
                command += ["-p", str(notifier.pid)]
                spy = subprocess.Popen(
                    [str(Path(sys.executable).parent / "py-spy"), *command],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(1.0)
            cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
            sent = pipeline.send(
                stack.url("initiator"), stack.tokens["court"], pipeline.court_list(n, run)
            )
            assert not sent.rejected, sent.rejected[:3]
            done, done_at = pipeline.wait_done(infra.admin_url, stack.schema_suffix, 1500)
            assert done.done, done
            logged, size, batches = asyncio.run(_caught_up(infra, stack))
            caught_at = time.time()
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
            cpu = {name: round(cpu_seconds(pid) - cpu0[name], 2) for name, pid in pids.items()}
            rss = round(peak_rss_mb(notifier.pid), 1)
            if records is not None:
                asyncio.run(_dump(infra.kafka, topics.STATUS + stack.topic_suffix, records))
        finally:
            notifier.stop()
    return {
        "debtors": n,
        "fully_executed_s": round(done_at - sent.first_request, 2),
        "notifier_caught_up_s": round(caught_at - sent.first_request, 2),
        "statuses": logged,
        "status_kb_mean": round(size / max(logged, 1) / 1024, 1),
        "ingest_batches": batches,
        "cpu_s": cpu,
        "notifier_ms_per_status": round(1000 * cpu["notifier"] / max(logged, 1), 3),
        "notifier_ms_per_debtor": round(1000 * cpu["notifier"] / n, 2),
        "others_ms_per_debtor": round(
            1000 * sum(v for k, v in cpu.items() if k != "notifier") / n, 2
        ),
        "notifier_peak_rss_mb": rss,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("debtors", type=int)
    parser.add_argument("--before", default="main", help="the notifier's commit before")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--records", type=Path, help="write the first run's status topic")
    parser.add_argument("--profile", type=Path, help="py-spy each run's notifier into DIR")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="jsb-notifier-pipeline-"))
    trees = {"before": export(args.before, tmp / "before"), "after": PROJECT_ROOT}
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    records = args.records
    with discover() as infra:
        for k in range(args.rounds):  # alternated: each sees the machine's load of its minute
            for name, tree in trees.items():
                workdir = tmp / f"{name}{k}"
                workdir.mkdir()
                run = int(time.time()) % 40 + 2 * k + (name == "after")
                profile = args.profile / f"{name}{k}.json" if args.profile else None
                result = one_run(infra, workdir, tree, args.debtors, run, records, profile)
                records = None
                result = {"variant": name, "round": k, **result}
                runs[name].append(result)
                print(json.dumps(result), flush=True)
    summary: dict[str, Any] = {"before_commit": args.before, "debtors": args.debtors}
    for name, rs in runs.items():
        summary[name] = {
            key: statistics.median(r[key] for r in rs)
            for key in ("notifier_ms_per_status", "notifier_ms_per_debtor", "others_ms_per_debtor")
        }
    summary["after_over_before_per_status"] = round(
        summary["after"]["notifier_ms_per_status"] / summary["before"]["notifier_ms_per_status"], 3
    )
    print(json.dumps({"summary": summary}), flush=True)


if __name__ == "__main__":
    main()
