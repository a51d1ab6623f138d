"""The soak (issue 13 part 8, `make soak`): JSB_SOAK_SECONDS (600) of mixed load at a
bounded rate on loopback — designations, checks of designated and unknown subjects,
webhook deliveries to a loopback receiver — then it stops by itself. No error, no
growing consumer lag (the lag of the last third of the run is no higher than that of
the first third or 50 records — judged for each consumer on its own, so that one busy
lane is seen, and for their sum — and every consumer is caught up soon after the load
ends), and each
service's RSS grows by less than 10 % from the end of the warm-up to the end.

The figures of the run are printed and written to JSB_SOAK_REPORT when set."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from tests.support.crash_load import Load
from tests.support.notifier_receiver import Receiver, receiving
from tests.support.notifier_stack import subscribe
from tests.support.poll import until
from tests.support.soak_probe import lag, lag_grew, lag_thirds, rss
from tests.support.stack import Stack

pytestmark = pytest.mark.soak

WARM_UP_S = 90.0
SAMPLE_EVERY_S = 10.0


def test_soak(stack: Stack) -> None:
    seconds = float(os.environ.get("JSB_SOAK_SECONDS", "600"))
    receiver = Receiver()
    with receiving(receiver):
        receiver.secrets.append(subscribe(stack, receiver.url)["secret"])
        load = Load(stack, rate_per_s=float(os.environ.get("JSB_SOAK_RATE", "2")))
        loader = threading.Thread(target=load.run, args=(seconds,), daemon=True)
        started = time.monotonic()
        loader.start()
        samples: list[tuple[float, dict[str, int], dict[str, float]]] = []
        while loader.is_alive():
            time.sleep(SAMPLE_EVERY_S)
            at = time.monotonic() - started
            samples.append((at, rss(stack), lag(stack)))
        loader.join()
        caught_up = until(
            lambda: lag(stack), lambda ls: all(v == 0 for v in ls.values()), timeout_s=120
        )
        elapsed = time.monotonic() - started

    warm = [s for s in samples if s[0] >= WARM_UP_S]
    assert len(warm) >= 3, "the run is shorter than its warm-up"
    base, end = warm[0][1], warm[-1][1]
    growth = {name: (end[name] - base[name]) / base[name] for name in base}
    per_consumer = lag_thirds([s[2] for s in warm])
    first_lag, last_lag = lag_thirds([{"sum": sum(s[2].values())} for s in warm])["sum"]
    lagging = {name: fl for name, fl in per_consumer.items() if lag_grew(*fl)}
    report = {
        "seconds": round(elapsed),
        "designations": len(load.designated),
        "checks": len(load.checks),
        "blocked": sum(1 for c in load.checks if c.decision == "block"),
        "webhooks_accepted": len(receiver.accepted()),
        "errors": len(load.errors),
        "rss_kib_after_warm_up": base,
        "rss_kib_end": end,
        "rss_growth": {k: round(v, 4) for k, v in growth.items()},
        "lag_first_third_max": first_lag,
        "lag_last_third_max": last_lag,
        "lag_by_consumer": {
            name: {"first_third_max": first, "last_third_max": last}
            for name, (first, last) in per_consumer.items()
        },
        "lag_after": caught_up,
        "samples": [{"s": round(at), "rss_kib": r, "lag": ls} for at, r, ls in samples],
    }
    print("\nsoak " + json.dumps(report))
    if path := os.environ.get("JSB_SOAK_REPORT"):
        Path(path).write_text(json.dumps(report, indent=2))
    assert not load.errors, load.errors[:5]
    assert all(g < 0.10 for g in growth.values()), growth
    assert not lagging, lagging
    assert not lag_grew(first_lag, last_lag), (first_lag, last_lag)
