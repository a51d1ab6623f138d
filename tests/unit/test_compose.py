"""docker-compose.yml (not runnable here: no Docker engine) is checked by reading it:
the services get the tokens' hashes only, never the plaintext tokens file (issue 13
part 6: tokens are stored hashed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SERVICES = ("initiator", "responder", "ledger", "notifier")


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_every_service_reads_token_hashes_and_no_plaintext_tokens() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        service = services[name]
        environment = service["environment"]
        assert environment["JSB_TOKEN_HASHES_FILE"] == "/run/jsb/token-hashes.json", name
        mounts = [str(v) for v in service.get("volumes", [])]
        assert any(m.startswith("./.local/token-hashes.json:") for m in mounts), name
        assert not any("tokens.json:" in m and "token-hashes" not in m for m in mounts), name
        assert "JSB_TOKENS_FILE" not in environment, name
