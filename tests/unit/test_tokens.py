"""Bearer tokens are stored hashed, looked up by hash and compared in constant time;
an expired or revoked token is refused; the file is read again when it changes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared.cli.stack_cmd import app as stack_app
from shared.web import tokens as tokens_mod
from shared.web.auth import TokenRegistry
from shared.web.tokens import Refusal, TokenEntry, TokenTable, entries_of, token_hash

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def test_the_table_holds_hashes_never_tokens() -> None:
    table = TokenTable(entries_of({"tax": "secret-tax"}))
    assert "secret-tax" not in repr(table.__dict__)
    entry = table.lookup("secret-tax", NOW)
    assert isinstance(entry, TokenEntry)
    assert entry.name == "tax"
    assert entry.sha256 == token_hash("secret-tax")
    assert table.lookup("secret-ta", NOW) is Refusal.UNKNOWN
    assert table.lookup("", NOW) is Refusal.UNKNOWN


def test_expired_and_revoked_tokens_are_refused() -> None:
    table = TokenTable(
        [
            TokenEntry("tax", token_hash("old"), expires_at=NOW - timedelta(seconds=1)),
            TokenEntry("court", token_hash("fresh"), expires_at=NOW + timedelta(days=1)),
            TokenEntry("ops", token_hash("gone"), revoked=True),
        ]
    )
    assert table.lookup("old", NOW) is Refusal.EXPIRED
    assert isinstance(table.lookup("fresh", NOW), TokenEntry)
    assert table.lookup("gone", NOW) is Refusal.REVOKED
    registry = TokenRegistry(table)
    assert registry.principal("gone") is None
    assert registry.check("gone") is Refusal.REVOKED


def test_the_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[str, str]] = []
    real = tokens_mod.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens_mod.hmac, "compare_digest", spy)
    TokenTable(entries_of({"tax": "t"})).lookup("t", NOW)
    assert compared == [(token_hash("t"), token_hash("t"))]


def test_bad_entries_are_refused_at_load() -> None:
    with pytest.raises(ValueError, match="64 hex"):
        entries_of({"tokens": [{"name": "tax", "sha256": "abc"}]})
    with pytest.raises(ValueError, match="time zone"):
        entries_of(
            {"tokens": [{"name": "tax", "sha256": "a" * 64, "expires_at": "2027-01-01T00:00:00"}]}
        )


def test_a_revocation_in_the_file_takes_effect_without_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens_mod, "RELOAD_EVERY_S", 0.0)
    plain, hashes = tmp_path / "tokens.json", tmp_path / "token-hashes.json"
    runner = CliRunner()
    result = runner.invoke(stack_app, ["tokens", "--out", str(plain), "--hashes-out", str(hashes)])
    assert result.exit_code == 0, result.output
    issued = json.loads(plain.read_text())
    stored = hashes.read_text()
    assert all(tok not in stored for tok in issued.values())
    assert oct(hashes.stat().st_mode & 0o777) == "0o600"
    registry = TokenRegistry.from_file(hashes)
    principal = registry.principal(issued["tax"])
    assert principal is not None
    assert principal.department == "tax"

    time.sleep(0.01)  # a new mtime
    result = runner.invoke(stack_app, ["revoke", "tax", "--hashes", str(hashes)])
    assert result.exit_code == 0, result.output
    assert registry.check(issued["tax"]) is Refusal.REVOKED
    assert registry.principal(issued["court"]) is not None
    # issuing again keeps the revocation of the same token
    runner.invoke(stack_app, ["tokens", "--out", str(plain), "--hashes-out", str(hashes)])
    assert TokenRegistry.from_file(hashes).check(issued["tax"]) is Refusal.REVOKED


def test_a_plaintext_file_still_works_for_local_development(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"tax": "t1", "auditor": "t2"}))
    registry = TokenRegistry.from_file(path)
    auditor = registry.principal("t2")
    assert auditor is not None
    assert auditor.sees_identity_numbers
    assert registry.principal("t3") is None
