"""Bearer tokens → principals.

A token belongs to one department (or to the auditor / ops desks) and carries
roles. Locally the tokens come from `.local/tokens.json` (`{"<department>":
"<token>", "auditor": "...", "ops": "..."}`), written by `make up`; in production
the same mapping comes from the identity provider.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from shared.web.problems import ProblemError

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
    def __init__(self, tokens: dict[str, str]) -> None:
        self._by_token = {tok: name for name, tok in tokens.items()}

    @classmethod
    def from_file(cls, path: Path) -> TokenRegistry:
        if not path.exists():
            return cls({})
        data = json.loads(path.read_text())
        return cls({str(k): str(v) for k, v in data.items()})

    def principal(self, token: str) -> Principal | None:
        for known, name in self._by_token.items():
            if hmac.compare_digest(known, token):
                roles = frozenset({name}) if name in (AUDITOR, OPS) else DEPARTMENT_ROLES
                return Principal(name=name, roles=roles)
        return None


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
    principal = registry.principal(token.strip())
    if principal is None:
        raise _unauthorized("unknown token")
    return principal
