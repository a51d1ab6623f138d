"""Small pieces of the notifier: the rate limit, the secret box."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken

from services.notifier.rate_limit import TokenBucket
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings


async def test_the_token_bucket_holds_the_rate() -> None:
    bucket = TokenBucket(rate=40.0, burst=5)
    started = time.monotonic()
    for _ in range(25):
        await bucket.take()
    elapsed = time.monotonic() - started
    assert elapsed >= (25 - 5) / 40 * 0.9  # the burst, then 40 a second
    assert elapsed < 2.0


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
