"""Where a check waits, from the responder's histograms (GET /metrics) over one phase
of the check bench: the latency as served (`jsb_check_seconds`, from the request's
first byte to its answer), the part of it spent waiting for the journal to take the
check into a group (`responder_check_queued_seconds`: every writer busy) and the group
statement's own time (`responder_check_group_seconds`). What wrk measures beyond the
served latency is time before the server read the request: a CPU queue."""

from __future__ import annotations

import math
from collections import defaultdict

import httpx
from prometheus_client.parser import text_string_to_metric_families

Snapshot = dict[str, tuple[dict[float, float], float]]
"""Histogram name → (cumulative count per upper bound, `inf` included; sum)."""

HISTOGRAMS = (
    "jsb_check_seconds",
    "responder_check_queued_seconds",
    "responder_check_group_seconds",
    "responder_check_group_size",
)


def snapshot(url: str) -> Snapshot:
    """The histograms of HISTOGRAMS the server at `url` holds now."""
    return parse(httpx.get(url + "/metrics", timeout=10).text)


def parse(text: str) -> Snapshot:
    """The histograms of HISTOGRAMS in a Prometheus text exposition (labels summed)."""
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    sums: dict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        if family.name not in HISTOGRAMS:
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                buckets[family.name][float(sample.labels["le"])] += sample.value
            elif sample.name.endswith("_sum"):
                sums[family.name] += sample.value
    return {name: (dict(counts), sums[name]) for name, counts in buckets.items()}


def _quantile(q: float, cumulative: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile: linear within the bucket holding rank q."""
    total = cumulative[-1][1]
    if total <= 0:
        return 0.0
    rank, lower, below = q * total, 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = bound, count
    return lower


def waits(before: Snapshot, after: Snapshot) -> dict[str, dict[str, float]]:
    """Per histogram over the phase: count, mean, p50 and p99 (ms, or checks for the
    group size)."""
    out: dict[str, dict[str, float]] = {}
    for name in HISTOGRAMS:
        (now, now_sum), (then, then_sum) = after.get(name, ({}, 0.0)), before.get(name, ({}, 0.0))
        cumulative = [(b, now[b] - then.get(b, 0.0)) for b in sorted(now)]
        if not cumulative or cumulative[-1][1] <= 0:
            continue
        count = cumulative[-1][1]
        total = now_sum - then_sum
        scale = 1.0 if name.endswith("_size") else 1000.0
        out[name] = {
            "count": count,
            "mean": round(scale * total / count, 2),
            "p50": round(scale * _quantile(0.5, cumulative), 2),
            "p99": round(scale * _quantile(0.99, cumulative), 2),
        }
    return out
