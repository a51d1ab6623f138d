"""The pipeline's CPU per debtor, without the rest of the pipeline bench:
`python -m bench.pipeline_cpu [debtors] [--profile DIR] [--native]`.

The same run as tests/bench/test_pipeline_bench.py (a fresh stack of the four
services, N court debtors through `POST /v1/designations/batch`, timed until every
task's feedback is in the ledger and every status is published), without the Kafka
baseline and the paced run: it prints each service's CPU seconds and per debtor, and
under "machine" the whole machine's split over the run (the services, the Postgres
backends serving them, Postgres's background writers, the Kafka broker: per debtor
and as a share of the 2 cores' time; bench/machine_cpu.py says how), so a
before/after can alternate two checkouts in one session (run it from each checkout:
the services start from the checkout's own code). `--profile DIR`: py-spy records the
responder during the run (`python -m bench.hotspots DIR/responder.json`), or the
service `--service` names (`--rate` Hz); `--statements`: the service's Postgres
backends sampled by statement during the run (bench/statement_samples.py), written
to DIR/<service>-statements.json.
Figures: docs/benchmarks.md, "The responder's CPU per debtor (third pass)"."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg
import httpx

from bench import ledger_refresh_timing, pipeline
from bench.machine_cpu import MachineCpu, machine_split
from bench.servers import cpu_seconds, peak_rss_mb
from bench.statement_samples import StatementSamples
from tests.support.infra import discover
from tests.support.initiator_stack import own_stack


async def _responder_writes(url: str, schema_suffix: str) -> dict[str, int]:
    """The responder's table statistics: cursor moves (one per pass that applied
    deliveries), task rows inserted and updated."""
    conn = await asyncpg.connect(pipeline.pg_url(url))
    try:
        await asyncio.sleep(1.0)  # the statistics are flushed at most once a second
        rows = await conn.fetch(
            "SELECT relname, n_tup_ins, n_tup_upd, idx_scan FROM pg_stat_user_tables"
            " WHERE schemaname = $1",
            "responder" + schema_suffix,
        )
    finally:
        await conn.close()
    stats = {r["relname"]: r for r in rows}
    return {
        "cursor_moves": int(stats["departments"]["n_tup_upd"]),
        "cursor_reads": int(stats["departments"]["idx_scan"] or 0),
        "task_inserts": int(stats["tasks"]["n_tup_ins"]),
        "task_updates": int(stats["tasks"]["n_tup_upd"]),
        "outbox_rows": int(stats["outbox"]["n_tup_ins"]),
    }


def _lane_passes(url: str) -> dict[str, float]:
    """The responder's passes so far, by what they found (its /metrics)."""
    found: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("responder_lane_passes_total{"):
            label, value = line.split("}")
            found[label.split('"')[1]] = float(value)
    return found


def _ledger_projector(url: str) -> dict[str, float]:
    """The ledger's projector so far (its /metrics): subjects refreshed, fold cache
    lookups by outcome, seconds by step."""
    found: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == "ledger_subjects_refreshed_total":
            found["refreshed"] = float(value)
        elif name.startswith("ledger_projection_step_seconds_total{"):
            found["s_" + name.split('"')[1]] = round(float(value), 2)
        elif name.startswith("ledger_fold_cache_lookups_total{"):
            found["cache_" + name.split('"')[1]] = float(value)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("debtors", type=int, nargs="?", default=300)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--native", action="store_true")
    parser.add_argument("--service", default="responder", help="the service to profile")
    parser.add_argument("--rate", type=int, default=50, help="py-spy's samples per second")
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--dump", type=Path, default=None, help="bench/ledger_refresh_timing.py")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--idle", type=float, default=0.0, help="first measure N s idle")
    args = parser.parse_args()
    with (
        discover() as infra,
        TemporaryDirectory() as workdir,
        own_stack(infra, Path(workdir), ready_timeout_s=240) as stack,
    ):
        pids = {}
        for name, service in stack.services.items():
            assert service.proc is not None
            pids[name] = service.proc.pid
        idle = {}
        if args.idle:
            time.sleep(5)  # past the start-up
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            time.sleep(args.idle)
            idle = {
                name: round(100 * (cpu_seconds(pid) - before[name]) / args.idle, 2)
                for name, pid in pids.items()
            }
        spy = None
        if args.profile is not None:
            args.profile.mkdir(parents=True, exist_ok=True)
            cmd = [str(Path(sys.executable).with_name("py-spy")), "record"]
            cmd += ["--pid", str(pids[args.service]), "--rate", str(args.rate), "--format"]
            cmd += ["speedscope", "-o", str(args.profile / f"{args.service}.json")]
            cmd += ["--native"] if args.native else []
            spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bodies = pipeline.court_list(args.debtors, int(time.time()) % 40)
        schemas = {name: name + stack.schema_suffix for name in pids}
        sampler = None
        if args.profile is not None and args.statements:
            sampler = StatementSamples(pipeline.pg_url(infra.admin_url), schemas[args.service])
        with (
            MachineCpu(pipeline.pg_url(infra.admin_url), schemas, kafka=infra.kafka) as machine,
            sampler or contextlib.nullcontext(),
        ):
            cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
            sent = pipeline.send(stack.url("initiator"), stack.tokens["court"], bodies, chunk=500)
            assert not sent.rejected, sent.rejected[:3]
            done, done_at = pipeline.wait_done(infra.admin_url, stack.schema_suffix, args.timeout)
            assert done.done, done
            cpu = {name: round(cpu_seconds(pid) - cpu0[name], 2) for name, pid in pids.items()}
        passes = _lane_passes(stack.url("responder"))
        projector = _ledger_projector(stack.url("ledger"))
        rss = {name: round(peak_rss_mb(pid), 1) for name, pid in pids.items()}
        if args.dump is not None:
            url = pipeline.pg_url(infra.admin_url)
            found = asyncio.run(ledger_refresh_timing.dump(url, schemas["ledger"]))
            args.dump.write_text(json.dumps(found))
        writes = asyncio.run(_responder_writes(infra.admin_url, stack.schema_suffix))
        if sampler is not None:
            out = args.profile / f"{args.service}-statements.json"
            out.write_text(json.dumps(sampler.result(), indent=1))
        if spy is not None:
            spy.send_signal(2)  # SIGINT: py-spy writes what it recorded
            spy.wait(timeout=60)
    n = args.debtors
    wall = done_at - sent.first_request
    print(
        json.dumps(
            {
                "debtors": n,
                "fully_executed_s": round(wall, 1),
                "tasks": done.ledger_tasks,
                "cpu_s": cpu,
                "cpu_ms_per_debtor": {k: round(v * 1000 / n, 2) for k, v in cpu.items()},
                "total_ms_per_debtor": round(sum(cpu.values()) * 1000 / n, 1),
                "machine": machine_split(machine.result(), sum(cpu.values()), n, wall),
                "idle_percent_of_a_core": idle,
                "responder_writes": writes,
                "lane_passes": passes,
                "ledger_projector": projector,
                "peak_rss_mb": rss,
            }
        )
    )


if __name__ == "__main__":
    main()
