"""What the soak watches: each service's resident memory (from /proc) and its
consumers' lag (the `jsb_consumer_lag` gauge of /metrics)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.stack import Stack


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def rss(stack: Stack) -> dict[str, int]:
    out = {}
    for name, svc in stack.services.items():
        assert svc.proc is not None
        out[name] = rss_kib(svc.proc.pid)
    return out


def lag(stack: Stack) -> dict[str, float]:
    """Records behind, per consumer, over every service."""
    out: dict[str, float] = {}
    for svc in stack.services.values():
        r = httpx.get(
            svc.url + "/metrics",
            headers={"Authorization": f"Bearer {stack.tokens['ops']}"},
            timeout=15,
        )
        r.raise_for_status()
        for family in text_string_to_metric_families(r.text):
            if family.name == "jsb_consumer_lag":
                for sample in family.samples:
                    out[sample.labels["consumer"]] = sample.value
    return out


def lag_thirds(samples: Sequence[Mapping[str, float]]) -> dict[str, tuple[float, float]]:
    """Each consumer's highest lag in the first third of `samples` and in the last
    third (the samples after the warm-up, in order); a consumer missing from a sample
    (its gauge not yet reported) counts as 0 there."""
    third = max(1, len(samples) // 3)
    consumers = sorted({name for s in samples for name in s})
    return {
        name: (
            max(s.get(name, 0.0) for s in samples[:third]),
            max(s.get(name, 0.0) for s in samples[-third:]),
        )
        for name in consumers
    }


def lag_grew(first: float, last: float, floor: float = 50.0) -> bool:
    """The soak's criterion: a lag grew when its last third's highest is above both its
    first third's highest and `floor` records (noise at a low lag is not growth)."""
    return last > max(first, floor)
