"""The projector's replay in bench/ledger_refresh_timing.py: the debounce's rule and the
rounds' cost, on small arrivals worked out by hand."""

from __future__ import annotations

from bench.ledger_refresh_timing import simulate


def test_a_subject_quiet_after_its_events_is_refreshed_once() -> None:
    arrivals = [(0.0, "a"), (0.1, "a"), (0.2, "a")]
    refreshes, end = simulate(arrivals, per=0.01, quiet=0.5, bound=4.0)
    assert refreshes == 1
    assert 0.7 <= end <= 1.3  # the wait after the last event, then one subject's round


def test_the_bound_takes_a_subject_that_keeps_getting_events() -> None:
    arrivals = [(t / 10, "a") for t in range(100)]  # every 0.1 s for 10 s: never quiet
    refreshes, _ = simulate(arrivals, per=0.01, quiet=0.5, bound=4.0)
    assert refreshes == 3  # at the bound twice, then once quiet after the last


def test_slow_rounds_coalesce_what_fast_rounds_refresh_apart() -> None:
    """Each subject's events come every second for 20 s: rounds fast enough refresh it
    after each quiet second; a round slower than the gaps takes many events at once."""
    arrivals = sorted((float(t), s) for t in range(20) for s in ("a", "b", "c"))
    fast, _ = simulate(arrivals, per=0.001, quiet=0.5, bound=4.0)
    slow, end = simulate(arrivals, per=2.0, quiet=0.5, bound=4.0)
    assert fast == 60
    assert slow < 20
    assert end > 19.0


def test_a_round_takes_at_most_the_batch_oldest_first() -> None:
    arrivals = [(0.0, "a"), (0.0, "b"), (0.0, "c")]
    refreshes, end = simulate(arrivals, per=1.0, quiet=0.5, bound=4.0, batch=2)
    assert refreshes == 3
    assert 3.4 <= end <= 3.6  # waits 0.5, a round of 2 (2 s), then one of 1 (1 s)
