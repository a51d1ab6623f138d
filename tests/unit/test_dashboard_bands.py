"""A subject's timeline bands (services/ledger/dashboard/bands.py): equal neighbours
join, a change of state starts a band, the last band is open up to now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.ledger.dashboard.bands import Sample, bands, sample_instants

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def test_states_become_bands_and_the_last_one_stays_open() -> None:
    now = at(10)
    samples = [
        Sample(at(0), {"a": "in_force"}),
        Sample(at(2), {"a": "in_force", "b": "in_force"}),
        Sample(at(3), {"a": "suspended", "b": "in_force"}),
        Sample(at(5), {"a": "in_force", "b": "revoked"}),
        Sample(now, {"a": "in_force", "b": "revoked"}),
    ]
    got = bands(samples, now)
    assert got["a"] == [
        {"state": "in_force", "from": at(0).isoformat(), "until": at(3).isoformat()},
        {"state": "suspended", "from": at(3).isoformat(), "until": at(5).isoformat()},
        {"state": "in_force", "from": at(5).isoformat(), "until": None},
    ]
    assert got["b"] == [
        {"state": "in_force", "from": at(2).isoformat(), "until": at(5).isoformat()},
        {"state": "revoked", "from": at(5).isoformat(), "until": None},
    ]


def test_instants_are_the_events_the_edges_and_now_never_the_future() -> None:
    now = at(10)
    got = sample_instants([at(1), at(1), at(4)], [at(2), None, at(30)], now)
    assert got == [at(1), at(2), at(4), now]
    assert sample_instants([at(d) for d in range(9)], [], now, cap=3) == [at(7), at(8), now]
