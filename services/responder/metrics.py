"""The responder's Prometheus metrics (on the app's registry, served at /metrics).

The check path's (`checks`, the journal's three histograms) are changed by every check,
so they are the loop's own lock-free kind (shared/adapters/loop_metrics.py says why),
exposed as prometheus_client's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from shared.adapters.loop_metrics import LoopCounter, LoopHistogram


@dataclass(frozen=True)
class ResponderMetrics:
    feedback: Counter
    checks: LoopCounter
    dead_letters: Counter
    lane_failures: Counter
    lane_passes: Counter
    data_age: Gauge
    index_subjects: Gauge
    check_group_seconds: LoopHistogram
    check_group_size: LoopHistogram
    check_queued_seconds: LoopHistogram

    def observe_group(self, size: int, seconds: float, queued: Sequence[float] = ()) -> None:
        """One group commit of the check journal: its size, its statement's seconds,
        and how long each of its checks waited for the group to start."""
        self.check_group_size.observe(size)
        self.check_group_seconds.observe(seconds)
        observe = self.check_queued_seconds.observe
        for waited in queued:
            observe(waited)

    @classmethod
    def on(cls, registry: CollectorRegistry | None = None) -> ResponderMetrics:
        registry = registry or CollectorRegistry()
        return cls(
            feedback=Counter(
                "responder_feedback",
                "Feedback events written to the outbox",
                ["kind"],
                registry=registry,
            ),
            checks=LoopCounter(
                "responder_checks", "Checks answered", ["decision"], registry=registry
            ),
            dead_letters=Counter(
                "responder_dead_letters",
                "Records sent to the dead-letter topic",
                ["stage"],
                registry=registry,
            ),
            lane_failures=Counter(
                "responder_lane_failures",
                "Department passes that failed and will be retried",
                registry=registry,
            ),
            lane_passes=Counter(
                "responder_lane_passes",
                "Department passes committed, by what they found: `work` (deliveries applied or "
                "clock transitions reported) or `nothing` (a wake-up with nothing to apply)",
                ["found"],
                registry=registry,
            ),
            data_age=Gauge(
                "responder_data_age_seconds",
                "Seconds since the ingest last knew it had everything the broker had",
                registry=registry,
            ),
            index_subjects=Gauge(
                "responder_index_subjects",
                "Restricted subjects in the in-process restriction index when it was loaded "
                "(-1: not loaded yet; checks read the table meanwhile)",
                registry=registry,
            ),
            check_group_seconds=LoopHistogram(
                "responder_check_group_seconds",
                "Time to commit one group of checks (one statement, its own transaction)",
                buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
                registry=registry,
            ),
            check_queued_seconds=LoopHistogram(
                "responder_check_queued_seconds",
                "Time a check waited in the journal before its group was taken (every "
                "writer busy); then it waits for its group's statement",
                buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
                registry=registry,
            ),
            check_group_size=LoopHistogram(
                "responder_check_group_size",
                "Checks committed together by one group commit",
                buckets=(1, 2, 4, 8, 16, 32, 64, 128, 512, 2000),
                registry=registry,
            ),
        )
