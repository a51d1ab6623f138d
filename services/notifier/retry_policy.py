"""What a delivery attempt's outcome means, and when to try again. Pure.

Retried: timeouts, connection errors, 5xx, 408 and 429 (429 and 503 honour
`Retry-After`, in seconds or as an HTTP date). Not retried: any other 4xx, and 3xx
(redirects are not followed). Backoff: exponential from `base`, capped at `cap`,
with "full jitter" between half and the whole step (AWS Architecture Blog,
"Exponential Backoff And Jitter"), so many failing deliveries do not retry in step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    status_code: int | None
    error: str | None = None
    retry_after_s: float | None = None


def of_response(status: int, retry_after: str | None, now: datetime) -> Outcome:
    if 200 <= status < 300:
        return Outcome(Verdict.DELIVERED, status)
    if status >= 500 or status in (408, 429):
        return Outcome(Verdict.RETRY, status, f"HTTP {status}", parse_retry_after(retry_after, now))
    return Outcome(Verdict.FAILED, status, f"HTTP {status} (not retried)")


def of_error(error: str) -> Outcome:
    return Outcome(Verdict.RETRY, None, error)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_s(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before the next attempt after `attempts` failed ones (1, 2, ...)."""
    step: float = min(cap, base * 2.0 ** max(0, attempts - 1))
    jitter: float = (rng or random).random()
    return step * (0.5 + jitter / 2)


def next_delay_s(outcome: Outcome, attempts: int, base: float, cap: float) -> float:
    delay = backoff_s(attempts, base, cap)
    if outcome.retry_after_s is not None:
        return min(cap, max(delay, outcome.retry_after_s))
    return delay
