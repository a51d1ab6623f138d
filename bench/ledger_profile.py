"""Profile one phase of the ledger bench (bench/ledger_phases.py) with pyinstrument:

    python -m bench.ledger_profile ingest  SUBJECTS [OUT.html]
    python -m bench.ledger_profile rebuild SUBJECTS [OUT.html]
    python -m bench.ledger_profile subject EVENTS   [OUT.html]
    python -m bench.ledger_profile bound   SUBJECTS

`bound`: no database; the CPU a rebuild cannot avoid per event, in this process: the
envelopes decoded (`to_recorded`), folded, and each subject projected
(`project_state`), timed apart in process CPU time (the shared machine's load does
not count) — what bounds `jsb ledger rebuild` in Python.

On a fresh ledger schema of the shared stack (dropped afterwards), the bulk court
list of `SUBJECTS` debtors (bench/ledger_records.py). Prints the phase's JSON line
and pyinstrument's text profile; the HTML one goes to OUT.html when given. What each
performance change of the ledger was motivated by (docs/benchmarks.md, Ledger).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

from bench import ledger_phases
from bench.ledger_records import write
from services.ledger.read_models.rows import project_state
from services.ledger.replay import fold_recorded, recorded_events
from shared.domain.envelope import Envelope
from tests.support.infra import discover
from tests.support.ledger_events import stored
from tests.support.ledger_harness import drop_schema, make_schema
from tests.support.ledger_workload import court_bulk


async def _profiled(phase: str, size: int, profiler: Profiler) -> dict[str, Any]:
    with discover() as infra:
        schema = await make_schema(infra)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "records.tsv"
                if phase != "subject":
                    await asyncio.to_thread(write, path, size)
                if phase == "rebuild":
                    await ledger_phases.ingest(path, schema)
                profiler.start()
                try:
                    if phase == "ingest":
                        return await ledger_phases.ingest(path, schema)
                    if phase == "rebuild":
                        return await ledger_phases.rebuild(schema)
                    return await ledger_phases.subject(size, schema)
                finally:
                    profiler.stop()
        finally:
            await drop_schema(infra, schema)


def bound(subjects: int) -> dict[str, Any]:
    """Per-event CPU of a rebuild's projection, without the database."""
    listed = court_bulk(subjects, chunk=200)
    by_subject: dict[str, list[Envelope]] = {}
    for env in listed.envelopes:
        by_subject.setdefault(env.subject, []).append(env)
    streams = [stored(envs) for envs in by_subject.values()]
    n = sum(len(s) for s in streams)
    t0 = time.process_time()
    decoded = [recorded_events(s) for s in streams]
    t1 = time.process_time()
    states = [fold_recorded(r, s[0].stream) for r, s in zip(decoded, streams, strict=True)]
    t2 = time.process_time()
    for state, s in zip(states, streams, strict=True):
        project_state(s[0].stream, state, s[-1], max(e.effective_at for e in s))
    t3 = time.process_time()
    us = 1e6 / n
    return {
        "events": n,
        "subjects": len(streams),
        "decode_us_per_event": round((t1 - t0) * us, 1),
        "fold_us_per_event": round((t2 - t1) * us, 1),
        "project_us_per_event": round((t3 - t2) * us, 1),
        "events_per_s_ceiling": round(n / (t3 - t0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["ingest", "rebuild", "subject", "bound"])
    parser.add_argument("size", type=int)
    parser.add_argument("html", nargs="?")
    args = parser.parse_args()
    if args.phase == "bound":
        sys.stdout.write(json.dumps(bound(args.size)) + "\n")
        return
    profiler = Profiler(async_mode="disabled")
    out = asyncio.run(_profiled(args.phase, args.size, profiler))
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.write(profiler.output_text(unicode=False, color=False, show_all=False))
    if args.html:
        Path(args.html).write_text(profiler.output_html())


if __name__ == "__main__":
    main()
