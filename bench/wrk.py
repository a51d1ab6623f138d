"""Runs wrk (Debian's, installed by deploy/scripts/tools.sh) and reads its report."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("checks.lua")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    requests: int
    errors: int
    """Socket errors and non-2xx answers."""
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    connections: int
    duration_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if m is None:
        raise ValueError(f"not a wrk duration: {text}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse(out: str, connections: int, duration_s: float) -> WrkResult:
    pct = {
        int(m.group(1)): _ms(m.group(2))
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M)
    }
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None or len(pct) < 4:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    errors = 0
    for m in re.finditer(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        requests=int(total.group(1)),
        errors=errors,
        p50_ms=pct[50],
        p75_ms=pct[75],
        p90_ms=pct[90],
        p99_ms=pct[99],
        connections=connections,
        duration_s=duration_s,
    )


def run(
    url: str,
    bodies: Path,
    token: str,
    *,
    connections: int = 32,
    duration_s: float = 10.0,
    delay_ms: int = 0,
    threads: int = 1,
) -> WrkResult:
    env = {
        **os.environ,
        "WRK_BODIES": str(bodies),
        "WRK_TOKEN": token,
        "WRK_DELAY_MS": str(delay_ms),
    }
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s:g}s", "--latency"]
    cmd += ["-s", str(SCRIPT), url + "/v1/checks"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=300)
    return parse(out.stdout, connections, duration_s)
