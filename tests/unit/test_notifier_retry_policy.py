"""Which outcomes are retried, and when."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from services.notifier.retry_policy import (
    Verdict,
    backoff_s,
    next_delay_s,
    of_error,
    of_response,
    parse_retry_after,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (400, Verdict.FAILED),
        (401, Verdict.FAILED),
        (404, Verdict.FAILED),
        (410, Verdict.FAILED),
        (301, Verdict.FAILED),  # redirects are not followed
    ],
)
def test_what_is_retried(status: int, verdict: Verdict) -> None:
    assert of_response(status, None, NOW).verdict is verdict


def test_timeouts_and_connection_errors_are_retried() -> None:
    assert of_error("timeout").verdict is Verdict.RETRY
    assert of_error("ConnectError").verdict is Verdict.RETRY


def test_retry_after_in_seconds_and_as_a_date() -> None:
    assert parse_retry_after("120", NOW) == 120
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, NOW) == 30
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_retry_after_is_honoured_within_the_cap() -> None:
    outcome = of_response(429, "60", NOW)
    assert next_delay_s(outcome, 1, base=1, cap=3600) >= 60
    assert next_delay_s(outcome, 1, base=1, cap=30) == 30


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempts in range(1, 8):
        step = min(100.0, 2.0 * 2 ** (attempts - 1))
        delay = backoff_s(attempts, 2.0, 100.0, rng)
        assert step / 2 <= delay <= step
    delays = {round(backoff_s(3, 2.0, 100.0), 6) for _ in range(20)}
    assert len(delays) > 1  # jittered
