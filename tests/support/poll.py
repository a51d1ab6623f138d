"""Waiting for what flows through Kafka: poll until a condition holds, or fail
with what was last seen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(
    probe: Callable[[], T], ok: Callable[[T], bool], timeout_s: float = 30.0, every_s: float = 0.2
) -> T:
    deadline = time.monotonic() + timeout_s
    last = probe()
    while not ok(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout_s}s; last seen: {last!r}"[:3000])
        time.sleep(every_s)
        last = probe()
    return last
