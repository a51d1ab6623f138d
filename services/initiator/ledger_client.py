"""The cross-check (交叉比对, issue 5 §5): is a sanction in force on the subject?

The initiator knows the designations it decided itself (`decide` refuses an incentive
on that state); the ledger knows everything recorded about the subject. Before an
incentive designation is accepted the initiator asks the ledger
(`GET /v1/subjects/{subject_id}/status`, issue 4: `restricted`, `measures_in_force`).
When the ledger cannot answer (down, timeout, 5xx, an answer it cannot read) the
designation is refused (503 over HTTP): an incentive granted on a guess is the wrong
error. `LedgerCrossCheck` is the HTTP adapter of the `LedgerStatus` port (ports.py);
memory.py has the in-memory one; both pass tests/contracts/test_ledger_status.py.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from shared.domain.errors import CommandRefused, DependencyUnavailable
from shared.domain.identifiers import mask
from shared.domain.rejections import RejectionCode

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO; subject ids in paths may be identity numbers.
logging.getLogger("httpx").setLevel(logging.WARNING)

LEDGER_UNAVAILABLE = "ledger_unavailable"


class LedgerUnavailable(Exception):
    """The ledger gave no usable answer."""


def sanctioned_refusal(field: str = "list_type") -> CommandRefused:
    message = "the ledger shows a sanction in force on the subject: no incentive (交叉比对)"
    return CommandRefused.because(RejectionCode.INCENTIVE_WHILE_SANCTIONED, field, message)


def unavailable(field: str = "subject.id") -> DependencyUnavailable:
    message = "the ledger cannot confirm that no sanction is in force; try again later"
    return DependencyUnavailable(LEDGER_UNAVAILABLE, field, message, retry_after_s=5)


def ops_token(tokens_file: Path) -> str | None:
    try:
        value = json.loads(tokens_file.read_text()).get("ops")
    except (OSError, ValueError):
        return None
    return str(value) if value else None


def is_sanctioned(status: Any) -> bool:
    """Read the ledger's status document; LedgerUnavailable if it is not one."""
    if not isinstance(status, dict) or not isinstance(status.get("restricted"), bool):
        raise LedgerUnavailable("the status document has no `restricted`")
    return status["restricted"] or bool(status.get("measures_in_force"))


class LedgerCrossCheck:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
        )

    async def sanctioned(self, subject_id: str) -> bool:
        """True when the ledger shows a sanction in force; LedgerUnavailable otherwise
        than a clear answer."""
        try:
            r = await self._client.get(f"/v1/subjects/{quote(subject_id, safe='')}/status")
        except httpx.HTTPError as exc:
            log.warning("ledger status of %s: %s", mask(subject_id), type(exc).__name__)
            raise LedgerUnavailable(type(exc).__name__) from exc
        if r.status_code == 404 and _problem_type(r).endswith(":subject_not_found"):
            return False  # the ledger has never heard of the subject
        if r.status_code != 200:
            log.warning("ledger status of %s: HTTP %s", mask(subject_id), r.status_code)
            raise LedgerUnavailable(f"HTTP {r.status_code}")
        try:
            return is_sanctioned(r.json())
        except ValueError as exc:
            raise LedgerUnavailable("not JSON") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _problem_type(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""
