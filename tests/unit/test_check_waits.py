"""bench/check_waits.py: the check bench's reading of the responder's histograms over
one phase (counts, means and quantiles of what was observed between two snapshots)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bench.check_waits import parse, waits


def _histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "responder_check_queued_seconds",
        "q",
        buckets=(0.001, 0.002, 0.005, 0.01, 0.02),
        registry=registry,
    )


def test_only_what_was_observed_between_the_snapshots_counts() -> None:
    registry = CollectorRegistry()
    queued = _histogram(registry)
    for _ in range(50):
        queued.observe(0.015)  # before the phase
    before = parse(generate_latest(registry).decode())
    for n in range(100):
        queued.observe(0.0015 if n < 98 else 0.0075)
    after = parse(generate_latest(registry).decode())

    found = waits(before, after)["responder_check_queued_seconds"]
    assert found["count"] == 100
    assert found["mean"] == round(1000 * (98 * 0.0015 + 2 * 0.0075) / 100, 2)
    assert 1.0 <= found["p50"] <= 2.0  # inside the bucket holding the median
    assert 5.0 <= found["p99"] <= 10.0
    assert "jsb_check_seconds" not in found  # nothing observed: left out
    assert set(waits(before, after)) == {"responder_check_queued_seconds"}


def test_a_phase_with_nothing_observed_reports_nothing() -> None:
    registry = CollectorRegistry()
    _histogram(registry).observe(0.003)
    same = parse(generate_latest(registry).decode())
    assert waits(same, same) == {}
