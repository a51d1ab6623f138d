"""Summarise a py-spy speedscope profile: `python -m bench.hotspots PROFILE.json [N]`
prints the event loop thread's functions with the most samples, inclusive and self
(idle excluded: the loop waiting inside uvloop, whose frames py-spy shows as `Runner.run`)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def hotspots(path: Path, top: int = 25) -> str:
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]
    names = [f"{f['name']} ({Path(f.get('file', '?')).name}:{f.get('line', '?')})" for f in frames]
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for profile in doc["profiles"]:
        if "MainThread" not in profile.get("name", ""):
            continue  # the event loop; worker threads are counted apart
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            leaf = names[stack[-1]]
            if stack == [stack[0]] or leaf.startswith("Runner.run "):
                continue  # idle: waiting for I/O
            total += weight
            own[leaf] += weight
            for name in set(names[i] for i in stack):
                inclusive[name] += weight
    lines = [f"busy samples: {total}", "", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(hotspots(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25))
