"""The notifier's ingest in process, another commit against this checkout, alternated:

    python -m bench.notifier_ab RECORDS [--before COMMIT] [--rounds R]

RECORDS: a status stream in bench/ledger_records.py's format (`bench.notifier_ingest
--write`, or `bench.notifier_pipeline --records`). Each round runs
`bench.notifier_ingest --records RECORDS --phase ingest` once with the tree of COMMIT
(`git archive`) and once with this checkout, each in a process of its own, the order
swapped every round (bench/trees.py). Prints one JSON line per run, then the medians:
the notifier's ms of CPU per status, the Postgres server's CPU seconds for the
batches, and this checkout's over COMMIT's for both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.trees import alternated, export, phase_result
from shared.adapters.settings import PROJECT_ROOT


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path)
    parser.add_argument("--before", default="main")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="jsb-notifier-ab-"))
    trees = [("before", export(args.before, tmp / "before")), ("after", PROJECT_ROOT)]
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    records = str(args.records.resolve())
    for r, name, tree in alternated(trees, args.rounds):
        command = [sys.executable, "-m", "bench.notifier_ingest", "--records", records]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        result = phase_result([*command, "--phase", "ingest"], tree, env)
        result["ms_per_status"] = round(1000 * result["cpu_s"] / result["statuses"], 3)
        runs[name].append(result)
        print(json.dumps({"variant": name, "round": r, **result}), flush=True)
    summary: dict[str, Any] = {"before_commit": args.before}
    figures = ("ms_per_status", "postgres_cpu_s")
    for name, rs in runs.items():
        summary[name] = {key: statistics.median(x[key] for x in rs) for key in figures}
    for key in figures:
        summary[f"after_over_before_{key}"] = round(
            summary["after"][key] / summary["before"][key], 3
        )
    print(json.dumps({"summary": summary}), flush=True)


if __name__ == "__main__":
    main()
