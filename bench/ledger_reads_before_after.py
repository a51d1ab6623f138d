"""One subject's reads, before and after a change, in one run:

    python -m bench.ledger_reads_before_after <commit-before> [rounds]

The scale bench's one-subject phase (`bench/ledger_phases.py subject`: a history page
plus the status as of the middle, first read and best of five, the whole history
once) at 1,000 and 10,000 events, run by the code of `<commit-before>` (exported with
`git archive` to a temporary directory) and by this checkout in turn, the order
swapped every round, each on a fresh ledger schema of the shared stack, with the
collector tuned as the service's process runs (`JSB_LEDGER_GC_THRESHOLD`) for both.
The phase itself (bench/ledger_phases.py, bench/ledger_subject.py) is this checkout's
on both sides, copied into the exported tree: the same measurement (the first read,
the best of five, the whole history, a refresh of the subject after one more event,
the snapshots stored) of both codes. Prints one JSON line per run; docs/benchmarks.md
("One subject's reads") keeps the figures. Ratios only: the machine is shared.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.trees import alternated, export, phase_result
from services.ledger.settings import LedgerSettings
from shared.adapters.settings import PROJECT_ROOT
from tests.support.infra import discover
from tests.support.ledger_harness import drop_schema, make_schema

SIZES = tuple(int(n) for n in os.environ.get("JSB_BENCH_SIZES", "1000,10000").split(","))
PHASE = (
    "import gc, sys; gc.set_threshold({threshold}, *gc.get_threshold()[1:]); "
    "sys.argv = ['ledger_phases', 'subject', '{events}', '{schema}']; "
    "from bench.ledger_phases import main; main()"
)


def _run(tree: Path, events: int, schema: str) -> dict[str, Any]:
    code = PHASE.format(
        threshold=LedgerSettings().gc_threshold or 700, events=events, schema=schema
    )
    return phase_result([sys.executable, "-c", code], tree, {**os.environ, "PYTHONPATH": str(tree)})


async def compare(before: Path, rounds: int) -> None:
    trees = [("before", before), ("after", PROJECT_ROOT)]
    with discover() as infra:
        for n, name, tree in alternated(trees, rounds):
            for events in SIZES:
                schema = await make_schema(infra)
                try:
                    result = await asyncio.to_thread(_run, tree, events, schema)
                finally:
                    await drop_schema(infra, schema)
                print(json.dumps({"code": name, "round": n, **result}), flush=True)


PHASE_FILES = ("bench/ledger_phases.py", "bench/ledger_subject.py")


def main() -> None:
    commit = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory(prefix="jsb-ledger-reads-") as tmp:
        before = export(commit, Path(tmp) / "before")
        for name in PHASE_FILES:
            shutil.copyfile(PROJECT_ROOT / name, before / name)
        asyncio.run(compare(before, rounds))


if __name__ == "__main__":
    main()
