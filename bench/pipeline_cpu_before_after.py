"""`bench.pipeline_cpu` before and after a change, alternated in one session:

    python -m bench.pipeline_cpu_before_after <commit-before> [debtors] [rounds]

The code of `<commit-before>` (`git archive`) and this checkout run in turn, the order
swapped every round, each on a fresh stack of the four services; each prints
`bench.pipeline_cpu`'s JSON line (the services' CPU per debtor and the machine's
split: Postgres's backends, the broker). The measuring code is this checkout's
`bench/` in both trees. So that the before tree's backends can be told apart in
`pg_stat_activity`, its connections are given their schema as `application_name`, as
this checkout's are (shared/adapters/db.py `session_settings`): a setting with no
effect on the work measured. Ratios only: the machine is shared.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench.trees import alternated, export, phase_result
from shared.adapters.settings import PROJECT_ROOT

LABELS = {
    "shared/adapters/db.py": (
        '{"server_settings": {"search_path": schema}}',
        '{"server_settings": {"search_path": schema, "application_name": schema}}',
    ),
    "services/responder/bootstrap.py": (
        'server_settings={"search_path": settings.db_schema}',
        'server_settings={"search_path": settings.db_schema,'
        ' "application_name": settings.db_schema}',
    ),
}
"""Where a tree from before `session_settings` names its connections' settings."""


def label_connections(tree: Path) -> None:
    for path, (old, new) in LABELS.items():
        source = (tree / path).read_text()
        if "session_settings(" not in source:
            assert old in source, f"{path}: no connection settings to label"
            (tree / path).write_text(source.replace(old, new))


def main() -> None:
    commit = sys.argv[1]
    debtors = sys.argv[2] if len(sys.argv) > 2 else "300"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    with tempfile.TemporaryDirectory(prefix="jsb-pipeline-cpu-") as tmp:
        before = export(commit, Path(tmp) / "before")
        shutil.rmtree(before / "bench")
        shutil.copytree(PROJECT_ROOT / "bench", before / "bench")
        label_connections(before)
        for r, code, tree in alternated([("before", before), ("after", PROJECT_ROOT)], rounds):
            env = {**os.environ, "PYTHONPATH": str(tree)}
            result = phase_result([sys.executable, "-m", "bench.pipeline_cpu", debtors], tree, env)
            print(json.dumps({"code": code, "round": r, **result}), flush=True)


if __name__ == "__main__":
    main()
