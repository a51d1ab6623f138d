"""Before/after runs of the bench scripts: another commit's tree beside this checkout,
run in turn.

`export` extracts `git archive <commit>` into a directory (the code "before"); a phase
runs in a process of its own with that tree first on `PYTHONPATH` (`phase_result`);
`alternated` swaps the order every round, so each side meets the machine's load of
its own minutes (the machine is shared: only ratios within a run compare)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from shared.adapters.settings import PROJECT_ROOT


def export(commit: str, into: Path) -> Path:
    """The tree of `commit` (`git archive`) extracted into `into` (created)."""
    archive = subprocess.run(
        ["git", "archive", commit], cwd=PROJECT_ROOT, capture_output=True, check=True
    )
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def alternated(trees: Sequence[tuple[str, Path]], rounds: int) -> Iterator[tuple[int, str, Path]]:
    """(round, name, tree) for every tree in every round, the order reversed in odd
    rounds."""
    for r in range(rounds):
        for name, tree in trees if r % 2 == 0 else trees[::-1]:
            yield r, name, tree


def phase_result(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a bench phase in a process of its own; its last line of output (JSON)."""
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
