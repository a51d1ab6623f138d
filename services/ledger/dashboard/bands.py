"""A subject's timeline as bands: for each designation, the spans of time it spent in
each state (in force, suspended, repaired, expired, revoked, ...). The states are the
domain's, read from the status the ledger renders at sampled instants; this module
only joins equal neighbours into spans (pure, unit-tested)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Sample:
    at: datetime
    states: dict[str, str]
    """designation id → its state at `at` (absent: not yet issued)."""


def sample_instants(
    effective: Iterable[datetime], edges: Iterable[datetime | None], now: datetime, cap: int = 400
) -> list[datetime]:
    """Every instant where a state can change: each event's effective time, each
    designation's start and end, and now; the latest `cap` of them."""
    instants = {t for t in effective if t <= now}
    instants |= {t for t in edges if t is not None and t <= now}
    instants.add(now)
    return sorted(instants)[-cap:]


def bands(samples: Sequence[Sample], now: datetime) -> dict[str, list[dict[str, Any]]]:
    """designation id → `[{state, from, until}]`; the last band of each is open
    (`until` None) when it lasts up to `now`."""
    out: dict[str, list[dict[str, Any]]] = {}
    for i, sample in enumerate(samples):
        following = samples[i + 1].at if i + 1 < len(samples) else None
        for designation_id, state in sample.states.items():
            spans = out.setdefault(designation_id, [])
            if spans and spans[-1]["state"] == state and spans[-1]["until"] == sample.at:
                spans[-1]["until"] = following
            else:
                spans.append({"state": state, "from": sample.at, "until": following})
    for spans in out.values():
        for span in spans:
            span["from"] = span["from"].isoformat()
            span["until"] = None if span["until"] in (None, now) else span["until"].isoformat()
    return out
