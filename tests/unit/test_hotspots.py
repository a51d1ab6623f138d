"""bench/hotspots.py: the event loop's busy samples, and with
JSB_HOTSPOTS_NO_SYSCALLS=1 those whose innermost frame is a libc system call left out
(py-spy charges them the wait of a preempted thread; the module says why)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.hotspots import hotspots


def _profile(tmp_path: Path) -> Path:
    frames = [
        {"name": "Runner.run", "file": "runners.py", "line": 1},
        {"name": "answer", "file": "checks.py", "line": 10},
        {"name": "write", "file": "/lib/libc.so.6", "line": 0},
        {"name": "write", "file": "stream.py", "line": 5},  # a Python `write`: kept
    ]
    samples = [[0, 1], [0, 1, 2], [0, 1, 2], [0, 1, 3], [0]]
    doc = {
        "shared": {"frames": frames},
        "profiles": [{"name": "MainThread", "samples": samples, "weights": [1] * 5}],
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    return path


def test_system_call_leaves_are_left_out_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _profile(tmp_path)
    every = hotspots(path)
    assert "busy samples: 4" in every
    assert "50.0%  write (libc.so.6:0)" in every
    monkeypatch.setenv("JSB_HOTSPOTS_NO_SYSCALLS", "1")
    cpu = hotspots(path)
    assert "busy samples: 2" in cpu
    assert "left out, a system call innermost: 2 (50.0 %)" in cpu
    assert "write (libc.so.6:0)" not in cpu
    assert " 50.0%  write (stream.py:5)" in cpu
