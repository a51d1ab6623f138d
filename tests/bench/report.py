"""Benchmark results: printed, and kept in .local/bench/<name>.json for comparison.
Numbers are ratios against a baseline measured in the same run, never asserted."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.adapters.settings import LOCAL_DIR


def best_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    """The fastest of `repeat` runs, in seconds (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def peak_memory(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def record(name: str, results: dict[str, Any]) -> None:
    out = LOCAL_DIR / "bench"
    out.mkdir(parents=True, exist_ok=True)
    Path(out / f"{name}.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\n[bench] {name}: " + json.dumps(results, default=str))
