"""The services' bearer tokens, stored hashed.

The token file a service reads holds no token, only its SHA-256 (tokens are 24 random
bytes or more: a fast hash suffices, nothing to brute-force), with an optional expiry
and a revocation flag:

    {"tokens": [{"name": "tax", "sha256": "<64 hex>", "expires_at": "2027-01-01T00:00:00Z",
                 "revoked": false}, ...]}

A presented token is hashed and looked up by its hash; the stored hash is then compared
in constant time (`hmac.compare_digest`), so neither the lookup nor the comparison
depends on how much of a guessed token is right. The file is read again when it changes
(checked at most once a second), so a revocation takes effect without a restart.

Local development (`make up`, the tests) keeps the plaintext `{"<name>": "<token>"}` of
`.local/tokens.json` for clients; a service given only that file hashes it in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

RELOAD_EVERY_S = 1.0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenEntry:
    name: str
    sha256: str
    expires_at: datetime | None = None
    revoked: bool = False

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "revoked": self.revoked,
        }

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> TokenEntry:
        expires = doc.get("expires_at")
        at = None if expires is None else datetime.fromisoformat(str(expires))
        if at is not None and at.tzinfo is None:
            raise ValueError(f"expires_at of {doc.get('name')!r} needs a time zone")
        digest = str(doc["sha256"]).lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"sha256 of {doc.get('name')!r} is not 64 hex digits")
        return cls(str(doc["name"]), digest, at, bool(doc.get("revoked", False)))


class Refusal(StrEnum):
    UNKNOWN = "unknown token"
    EXPIRED = "expired token"
    REVOKED = "revoked token"


def entries_of(data: Any) -> list[TokenEntry]:
    """A token file's entries: the hashed form, or plaintext `{name: token}` hashed now."""
    if isinstance(data, dict) and isinstance(data.get("tokens"), list):
        return [TokenEntry.parse(e) for e in data["tokens"]]
    if isinstance(data, dict):
        return [TokenEntry(str(name), token_hash(str(tok))) for name, tok in data.items()]
    raise ValueError("a token file is a JSON object")


def hashed_file(plaintext: Mapping[str, str], existing: list[TokenEntry]) -> dict[str, Any]:
    """The hashed file for `plaintext` tokens, keeping the expiry and revocation of the
    entries already there for the same token."""
    kept = {e.sha256: e for e in existing}
    entries = []
    for name, tok in plaintext.items():
        digest = token_hash(tok)
        entries.append(kept.get(digest, TokenEntry(name, digest)))
    listed = {e.sha256 for e in entries}
    entries += [e for e in existing if e.sha256 not in listed]  # revoked or foreign ones stay
    return {"tokens": [e.document() for e in entries]}


def revoked(entries: list[TokenEntry], name: str) -> list[TokenEntry]:
    return [replace(e, revoked=True) if e.name == name else e for e in entries]


class TokenTable:
    """Token hash → entry, read from a file (and again when the file changes)."""

    def __init__(self, entries: list[TokenEntry], path: Path | None = None) -> None:
        self._by_hash = {e.sha256: e for e in entries}
        self._path = path
        self._stamp = self._file_stamp()
        self._checked = time.monotonic()

    @classmethod
    def from_file(cls, path: Path) -> TokenTable:
        if not path.exists():
            return cls([], path)
        return cls(entries_of(json.loads(path.read_text())), path)

    def _file_stamp(self) -> tuple[int, int] | None:
        if self._path is None:
            return None
        try:
            st = self._path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if self._path is None or now - self._checked < RELOAD_EVERY_S:
            return
        self._checked = now
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        try:
            fresh = TokenTable.from_file(self._path)
        except (ValueError, KeyError, OSError):
            return  # a file half-written or wrong: keep the tokens we had
        self._by_hash, self._stamp = fresh._by_hash, stamp

    def lookup(self, token: str, now: datetime | None = None) -> TokenEntry | Refusal:
        self._maybe_reload()
        digest = token_hash(token)
        entry = self._by_hash.get(digest)
        if entry is None or not hmac.compare_digest(entry.sha256, digest):
            return Refusal.UNKNOWN
        if entry.revoked:
            return Refusal.REVOKED
        if entry.expires_at is not None and entry.expires_at <= (now or datetime.now(UTC)):
            return Refusal.EXPIRED
        return entry
