"""Small pieces of the notifier: the rate limit, the secret box."""

from __future__ import annotations

import itertools
import stat
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken

from services.notifier.rate_limit import TokenBucket
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings


class FakeTime:
    """A clock that moves only when the bucket sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if len(self.slept) > 1000:
            raise AssertionError("the bucket waits for ever")
        self.now += seconds


async def test_the_token_bucket_holds_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(rate=40.0, burst=5, clock=t.clock, sleep=t.sleep)
    granted = []
    for _ in range(25):
        await bucket.take()
        granted.append(t.now)
    assert granted[:5] == [100.0] * 5  # the burst, without waiting
    gaps = [b - a for a, b in itertools.pairwise(granted[4:])]
    assert gaps == pytest.approx([1 / 40] * 20)  # then 40 a second
    assert t.now - 100.0 == pytest.approx((25 - 5) / 40)  # no more waiting than that


async def test_the_token_bucket_refills_with_time_up_to_its_burst() -> None:
    t = FakeTime()
    bucket = TokenBucket(rate=10.0, burst=3, clock=t.clock, sleep=t.sleep)
    for _ in range(3):
        await bucket.take()
    t.now += 60.0  # idle for a minute: full again, but no fuller than the burst
    for _ in range(3):
        await bucket.take()
    assert t.slept == []
    await bucket.take()
    assert t.slept == [pytest.approx(0.1)]


def test_secrets_are_sealed_and_opened_only_with_the_key(tmp_path: Path) -> None:
    settings = NotifierSettings(secret_key_file=tmp_path / "k")
    box = SecretBox.from_settings(settings)
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    sealed = box.seal("whsec_abc")
    assert "abc" not in sealed
    assert SecretBox.from_settings(settings).open(sealed) == "whsec_abc"  # same key file
    other = SecretBox.from_settings(NotifierSettings(secret_key_file=tmp_path / "other"))
    with pytest.raises(InvalidToken):
        other.open(sealed)
