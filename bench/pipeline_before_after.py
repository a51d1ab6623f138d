"""The pipeline bench's run, before and after a change, in one run:

    python -m bench.pipeline_before_after <commit-before> [debtors] [rounds]

`debtors` court debtors (default 300) through a fresh stack of the four services
(tests/support/initiator_stack.py), fully executed as fast as they go and then paced
at half that rate (tests/bench/test_pipeline_bench.py `_run`: CPU per service,
latency from each 201 to the designation's last feedback in the ledger), run by the
code of `<commit-before>` (exported with `git archive`) and by this checkout in turn,
the order swapped every round. Beside the bench's figures: the ledger's subject
refreshes in each run (its metric `ledger_subjects_refreshed_total`). No Kafka
baseline (the pipeline bench has it). Prints one JSON line per run; ratios only: the
machine is shared.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from bench.trees import alternated, export, phase_result
from shared.adapters.settings import PROJECT_ROOT

RUN = """
import json, sys, time
from pathlib import Path
import httpx
from bench.servers import peak_rss_mb
from tests.bench.test_pipeline_bench import _pid, _run
from tests.support.infra import discover
from tests.support.initiator_stack import own_stack

def refreshes(stack):
    text = httpx.get(stack.url("ledger") + "/metrics", timeout=10).text
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("ledger_subjects_refreshed_total"))

n, workdir = int(sys.argv[1]), Path(sys.argv[2])
with discover() as infra, own_stack(infra, workdir, ready_timeout_s=240) as stack:
    r0 = refreshes(stack)
    full = _run(stack, infra, n, run=int(time.time()) % 40, rate=None)
    full["ledger_refreshes"] = refreshes(stack) - r0
    rate = full["designations_per_s"] / 2
    r1 = refreshes(stack)
    paced = _run(stack, infra, max(20, min(n // 5, int(rate * 40))),
                 run=int(time.time()) % 40 + 50, rate=rate)
    paced["ledger_refreshes"] = refreshes(stack) - r1
    full["peak_rss_mb"] = {s: round(peak_rss_mb(_pid(stack, s)), 1) for s in stack.services}
print(json.dumps({"full": full, "half_rate": paced}))
"""


def _run(tree: Path, debtors: int, workdir: Path) -> dict[str, object]:
    args = [sys.executable, "-c", RUN, str(debtors), str(workdir)]
    return phase_result(args, tree, {**os.environ, "PYTHONPATH": str(tree)})


def main() -> None:
    commit = sys.argv[1]
    debtors = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    with tempfile.TemporaryDirectory(prefix="jsb-pipeline-") as tmp:
        before = export(commit, Path(tmp) / "before")
        trees = [("before", before), ("after", PROJECT_ROOT)]
        for r, code, tree in alternated(trees, rounds):
            workdir = Path(tmp) / f"{code}-{r}"
            workdir.mkdir()
            result = _run(tree, debtors, workdir)
            print(json.dumps({"code": code, "round": r, **result}), flush=True)


if __name__ == "__main__":
    main()
