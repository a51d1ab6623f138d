"""Summarise a py-spy speedscope profile: `python -m bench.hotspots PROFILE.json [N]`
prints the event loop thread's functions with the most samples, inclusive and self
(idle excluded: the loop waiting inside uvloop, whose frames py-spy shows as `Runner.run`).

With `JSB_HOTSPOTS_NO_SYSCALLS=1`, for a `--native` profile: samples whose innermost
frame is a libc system call (`write`, `read`, `getrandom`, ...) are left out too, and
their share printed. Why: py-spy samples wall time, and on a machine with fewer cores
than busy processes a call that wakes another process (a write to Postgres or to the
load generator) is often preempted by it and charged the wait: a check's profile put
25 % of the loop in `write` while /proc gave its system time as 13 % of its CPU
(docs/benchmarks.md, "CPU per check: what the CPU is spent on")."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

SYSCALLS = frozenset(
    {
        "write",
        "read",
        "writev",
        "readv",
        "send",
        "sendto",
        "sendmsg",
        "recv",
        "recvfrom",
        "recvmsg",
        "getrandom",
        "getpid",
        "epoll_wait",
        "epoll_pwait",
        "fsync",
        "fdatasync",
    }
)
"""libc functions that are (or wrap) one system call."""


def hotspots(path: Path, top: int = 25) -> str:
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]
    names = [f"{f['name']} ({Path(f.get('file', '?')).name}:{f.get('line', '?')})" for f in frames]
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    syscalls = 0
    drop_syscalls = os.environ.get("JSB_HOTSPOTS_NO_SYSCALLS") == "1"
    for profile in doc["profiles"]:
        if "MainThread" not in profile.get("name", ""):
            continue  # the event loop; worker threads are counted apart
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            leaf = names[stack[-1]]
            if stack == [stack[0]] or leaf.startswith("Runner.run "):
                continue  # idle: waiting for I/O
            frame = frames[stack[-1]]
            if drop_syscalls and frame["name"] in SYSCALLS and "libc" in frame.get("file", ""):
                syscalls += weight
                continue
            total += weight
            own[leaf] += weight
            for name in set(names[i] for i in stack):
                inclusive[name] += weight
    lines = [f"busy samples: {total}"]
    if drop_syscalls:
        share = 100 * syscalls / max(total + syscalls, 1e-9)
        lines.append(f"left out, a system call innermost: {syscalls} ({share:.1f} %)")
    lines += ["", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(hotspots(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25))
