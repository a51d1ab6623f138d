"""What the soak watches: each service's resident memory (from /proc) and its
consumers' lag (the `jsb_consumer_lag` gauge of /metrics)."""

from __future__ import annotations

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
