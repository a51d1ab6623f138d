"""The ledger scale bench's ingest phase, before and after a change, in one run:

    python -m bench.ledger_ingest_before_after <commit-before> [events] [rounds]

The same court-list records (bench/ledger_records.py, `events` of them, default
25,000) through the `eventsourcing` peer once, then, every round, through raw COPY
(the baseline, again in each round: on a loaded machine a COPY timed minutes earlier
is no baseline) and through `bench/ledger_phases.py ingest` as run by the code of
`<commit-before>` (exported with `git archive`) and by this checkout in turn, the
order swapped every round, each on a fresh ledger schema of the shared stack
(migrated by this checkout: its extra tables do not matter to older code). Prints one
JSON line per run, an ingest's with its ratio to the round's COPY (`over_copy`);
docs/benchmarks.md ("Ledger") keeps the figures. Ratios only: the machine is shared.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.ledger_records import write
from bench.trees import alternated, export, phase_result
from shared.adapters.settings import PROJECT_ROOT
from tests.bench.test_ledger_scale_bench import EVENTS_PER_DEBTOR, plain_schema
from tests.support.infra import discover
from tests.support.ledger_harness import drop_schema, make_schema


def _phase(tree: Path, name: str, source: str, schema: str) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.ledger_phases", name, source, schema]
    return phase_result(args, tree, {**os.environ, "PYTHONPATH": str(tree)})


async def compare(before: Path, events: int, rounds: int, workdir: Path) -> None:
    path = workdir / "records.tsv"
    n = await asyncio.to_thread(write, path, events // EVENTS_PER_DEBTOR)
    with discover() as infra:

        async def baseline(name: str) -> dict[str, Any]:
            schema = await plain_schema(infra)
            try:
                result = await asyncio.to_thread(_phase, PROJECT_ROOT, name, str(path), schema)
            finally:
                await drop_schema(infra, schema)
            print(json.dumps({"phase": name, "records": n, **result}), flush=True)
            return result

        await baseline("peer")
        trees = [("before", before), ("after", PROJECT_ROOT)]
        copy: dict[int, float] = {}
        for r, code, tree in alternated(trees, rounds):
            if r not in copy:
                copy[r] = float((await baseline("copy"))["seconds"])
            schema = await make_schema(infra)
            try:
                result = await asyncio.to_thread(_phase, tree, "ingest", str(path), schema)
            finally:
                await drop_schema(infra, schema)
            ratio = round(copy[r] / float(result["seconds"]), 3)
            line = {"phase": "ingest", "code": code, "round": r, "over_copy": ratio, **result}
            print(json.dumps(line), flush=True)


def main() -> None:
    commit = sys.argv[1]
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 25_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    with tempfile.TemporaryDirectory(prefix="jsb-ledger-ingest-") as tmp:
        before = export(commit, Path(tmp) / "before")
        asyncio.run(compare(before, events, rounds, Path(tmp)))


if __name__ == "__main__":
    main()
