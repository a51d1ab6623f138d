"""The ledger's decode step (`services.ledger.ingest.decode_records`) in process CPU
per record, before and after a change, in one run:

    python -m bench.ledger_decode_cpu <commit-before> [debtors] [rounds]

The records of a bulk court list (bench/ledger_records.py, `debtors` of them,
default 100: ~4,900 records) decoded by the code of `<commit-before>` (exported with
`git archive`) and by this checkout in turn, each in a process of its own, the order
swapped every round; each process prints the median of 7 passes in process CPU time
(what the shared machine's load inflates least). Prints one JSON line per run.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.ledger_records import read, write
from bench.trees import alternated, export, phase_result
from shared.adapters.settings import PROJECT_ROOT


def measure(path: Path) -> dict[str, float]:
    """decode_records over the records at `path`, µs of process CPU per record."""
    from services.ledger.ingest import decode_records

    records = [r for part in read(path, 1_000_000) for r in part]
    passes = []
    for _ in range(7):
        started = time.process_time()
        batch, dead = decode_records(records)
        passes.append(time.process_time() - started)
        assert len(batch) == len(records)
        assert not dead
    per_record = statistics.median(passes) * 1e6 / len(records)
    return {"records": len(records), "us_per_record": per_record}


def main() -> None:
    if sys.argv[1] == "--measure":
        sys.stdout.write(json.dumps(measure(Path(sys.argv[2]))) + "\n")
        return
    commit = sys.argv[1]
    debtors = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory(prefix="jsb-ledger-decode-") as tmp:
        path = Path(tmp) / "records.tsv"
        write(path, debtors)
        before = export(commit, Path(tmp) / "before")
        script = str(PROJECT_ROOT / "bench" / "ledger_decode_cpu.py")
        for r, code, tree in alternated([("before", before), ("after", PROJECT_ROOT)], rounds):
            args = [sys.executable, script, "--measure", str(path)]
            env = {**os.environ, "PYTHONPATH": str(tree)}
            result = phase_result(args, tree, env)
            print(json.dumps({"code": code, "round": r, **result}), flush=True)


if __name__ == "__main__":
    main()
