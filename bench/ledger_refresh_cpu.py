"""The ledger's CPU per court debtor in its ingest handler, without Postgres or Kafka:

    python -m bench.ledger_refresh_cpu DEBTORS [--turn N] [--batch N] [--seed N]

`services.ledger.ingest.Ingest` on the in-memory ports (services/ledger/memory.py,
which pass the same contract suite as Postgres), fed the records of a court list as
the two lanes would: the designations first (batches of 2,000), then the feedback of
every department lane, the lanes taking turns of `--turn` records each (the
responder's department lanes answer concurrently, each in designation order), in
feedback batches of `--batch` records. The fold cache at the service's defaults.
Prints one JSON line: process CPU seconds of ingest alone (decode, append to memory,
fold, render and project, status messages), per debtor, the refreshes and the fold
cache's hits and misses.

What it is for: comparing two versions of the ledger's refresh on the same records
and machine, alternately, in CPU time (the shared machine's load does not inflate
it): run this file from a checkout of each (docs/benchmarks.md, Ledger).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import time
from collections.abc import Sequence

from aiokafka import ConsumerRecord

from services.ledger.ingest import Ingest
from services.ledger.memory import MemoryLedger
from services.ledger.settings import LedgerSettings
from tests.support.ledger_workload import court_bulk, records


def lanes_in_turns(
    recs: Sequence[ConsumerRecord], turn: int, seed: int
) -> tuple[list[ConsumerRecord], list[ConsumerRecord]]:
    """(designations, feedback): the feedback as department lanes answering at once,
    each in designation order, `turn` records of each lane in turn."""
    designations = [r for r in recs if "feedback" not in r.topic]
    lanes: dict[str, list[ConsumerRecord]] = {}
    for r in recs:
        if "feedback" in r.topic:
            department = json.loads(r.value)["data"]["department"]
            lanes.setdefault(department, []).append(r)
    order = list(lanes.values())
    random.Random(seed).shuffle(order)  # noqa: S311 (a workload, not a secret)
    feedback: list[ConsumerRecord] = []
    while any(order):
        for lane in order:
            feedback.extend(lane[:turn])
            del lane[:turn]
    return designations, feedback


async def run(debtors: int, turn: int, batch: int, seed: int) -> dict[str, object]:
    workload = court_bulk(debtors, chunk=debtors, seed=seed)
    designations, feedback = lanes_in_turns(records(workload.envelopes), turn, seed)
    settings = LedgerSettings()
    gc.set_threshold(settings.gc_threshold or 700)
    ledger = MemoryLedger()
    projector = settings.projector(ledger)
    ingest = Ingest(hand_over=projector.hand_over)
    parts = [designations[i : i + 2000] for i in range(0, len(designations), 2000)]
    parts += [feedback[i : i + batch] for i in range(0, len(feedback), batch)]
    started = time.process_time()
    for part in parts:
        async with ledger.begin() as tx:
            await ingest.apply(tx, part)
        await projector.drain()  # after each batch: the refresh of every batch, as before
    cpu = time.process_time() - started
    return {
        "debtors": debtors,
        "events": ingest.appended,
        "turn": turn,
        "feedback_batch": batch,
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_debtor": round(1000 * cpu / debtors, 2),
        "refreshes": projector.refreshed,
        "fold_cache_hits": projector.cache.hits,
        "fold_cache_misses": projector.cache.misses,
        "seconds_per_step": {
            k: round(v, 3) for k, v in {**ingest.seconds, **projector.seconds}.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("debtors", type=int)
    parser.add_argument("--turn", type=int, default=10)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.debtors, args.turn, args.batch, args.seed))))


if __name__ == "__main__":
    main()
