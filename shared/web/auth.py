"""Bearer tokens → principals.

A token belongs to one department (or to the auditor / ops desks) and carries
roles. A service keeps only the tokens' SHA-256 hashes, with their expiry and
revocation (shared/web/tokens.py): from `JSB_TOKEN_HASHES_FILE` (`make up` writes
`.local/token-hashes.json`), else hashed in memory from the plaintext
`.local/tokens.json` (`{"<department>": "<token>", "auditor": "...", "ops": "..."}`)
that local clients and tests read. In production the hashed file comes from the
identity provider. No token, an unknown, expired or revoked one: 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from shared.web.problems import ProblemError
from shared.web.tokens import Refusal, TokenTable, entries_of

AUDITOR = "auditor"
OPS = "ops"
DEPARTMENT_ROLES = frozenset({"initiator", "responder"})


@dataclass(frozen=True)
class Principal:
    name: str
    """The department code, or `auditor` / `ops`."""
    roles: frozenset[str]

    @property
    def department(self) -> str | None:
        return None if self.name in (AUDITOR, OPS) else self.name

    @property
    def sees_identity_numbers(self) -> bool:
        """Auditors see full personal identity numbers; everyone else a masked form."""
        return AUDITOR in self.roles


class TokenRegistry:
    def __init__(self, tokens: TokenTable | dict[str, str]) -> None:
        """A table of hashed tokens, or plaintext `{name: token}` (hashed here)."""
        self._table = tokens if isinstance(tokens, TokenTable) else TokenTable(entries_of(tokens))
        self._principals: dict[str, Principal] = {}
        """One Principal per name, made once (it holds only the name and its roles):
        building it and its roles' frozenset was ~1.5 us of every request."""

    @classmethod
    def from_file(cls, path: Path) -> TokenRegistry:
        return cls(TokenTable.from_file(path))

    def check(self, token: str) -> Principal | Refusal:
        found = self._table.lookup(token)
        if isinstance(found, Refusal):
            return found
        name = found.name
        principal = self._principals.get(name)
        if principal is None:
            roles = frozenset({name}) if name in (AUDITOR, OPS) else DEPARTMENT_ROLES
            principal = self._principals[name] = Principal(name=name, roles=roles)
        return principal

    def principal(self, token: str) -> Principal | None:
        found = self.check(token)
        return None if isinstance(found, Refusal) else found


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        status=401,
        code="unauthorized",
        detail=detail,
        headers={"WWW-Authenticate": 'Bearer realm="jsb"'},
    )


# async: FastAPI runs a plain `def` dependency in a worker thread, per request.
async def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the caller, from `Authorization: Bearer <token>`."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("a bearer token is required")
    registry: TokenRegistry = request.app.state.tokens
    found = registry.check(token.strip())
    if isinstance(found, Refusal):
        raise _unauthorized(found.value)
    return found
