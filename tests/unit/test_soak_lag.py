"""The soak's lag criterion, judged per consumer (tests/support/soak_probe.py): one
busy lane is seen even when the sum over every consumer does not grow."""

from __future__ import annotations

from tests.support.soak_probe import lag_grew, lag_thirds


def test_a_busy_lane_hidden_in_the_sum_is_seen() -> None:
    # the designations lane catches up while the feedback lane falls behind: the sum's
    # last third (55) is below its first (60), the feedback lane's is not
    samples = [
        {"designations": 60.0, "feedback": 0.0},
        {"designations": 10.0, "feedback": 0.0},
        {"designations": 0.0, "feedback": 20.0},
        {"designations": 0.0, "feedback": 55.0},
    ]
    thirds = lag_thirds(samples)
    assert thirds == {"designations": (60.0, 0.0), "feedback": (0.0, 55.0)}
    total = lag_thirds([{"sum": sum(s.values())} for s in samples])["sum"]
    assert total == (60.0, 55.0)
    assert not lag_grew(*total)
    assert [name for name, fl in thirds.items() if lag_grew(*fl)] == ["feedback"]


def test_a_consumer_missing_from_early_samples_counts_as_caught_up() -> None:
    thirds = lag_thirds([{}, {"a": 3.0}, {"a": 70.0}])
    assert thirds == {"a": (0.0, 70.0)}
    assert lag_grew(*thirds["a"])


def test_a_low_lag_is_noise_not_growth() -> None:
    assert not lag_grew(0.0, 50.0)
    assert lag_grew(0.0, 51.0)
    assert not lag_grew(80.0, 80.0)
    assert lag_grew(80.0, 81.0)
