"""A steady, bounded load of designations and checks against a stack, surviving the
crash of any service: each designation is retried under its Idempotency-Key until
answered (so every one attempted is accepted exactly once), each check is recorded
with the instant it was made, its answer and how fresh the responder said its data
was."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.support.responder_flows import designation_body, designator
from tests.support.stack import Stack
from tests.support.subjects import new_resident_id

COURT = "court.dishonest-debtor"
ACTION = "book_flight"
MEASURE = "travel.restrict_flight"
CHECKER = "caac"


@dataclass
class Check:
    subject_id: str
    at: datetime
    decision: str
    fresh_as_of: datetime
    """How fresh the responder said its data was (`X-Data-Fresh-As-Of`)."""


@dataclass
class Load:
    stack: Stack
    rate_per_s: float = 2.0
    designated: dict[str, str] = field(default_factory=dict)
    """subject id → designation id, for every designation accepted."""
    checks: list[Check] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _subjects: list[str] = field(default_factory=list)

    def run(self, seconds: float) -> None:
        """Designations in this thread, checks in another: a designation waiting for
        the initiator (or the ledger it consults) to come back does not stop checks."""
        end = time.monotonic() + seconds
        checker = threading.Thread(target=self._checks, args=(end,), daemon=True)
        checker.start()
        court = {"Authorization": f"Bearer {self.stack.tokens[designator(COURT)]}"}
        with httpx.Client(timeout=10) as http:
            while time.monotonic() < end and not self._stop.is_set():
                started = time.monotonic()
                self._designate(http, court)
                time.sleep(max(0.0, 1 / self.rate_per_s - (time.monotonic() - started)))
        checker.join()

    def _checks(self, end: float) -> None:
        rng = random.Random(7)
        caac = {"Authorization": f"Bearer {self.stack.tokens[CHECKER]}"}
        with httpx.Client(timeout=10) as http:
            while time.monotonic() < end and not self._stop.is_set():
                started = time.monotonic()
                if self._subjects:
                    self._check(http, caac, rng.choice(self._subjects))
                self._check(http, caac, new_resident_id())
                time.sleep(max(0.0, 1 / self.rate_per_s - (time.monotonic() - started)))

    def _designate(self, http: httpx.Client, headers: dict[str, str]) -> None:
        person = new_resident_id()
        body = designation_body(person, COURT, subject={"id": person, "name": "王五"})
        key = {"Idempotency-Key": str(uuid.uuid4()), **headers}
        deadline = time.monotonic() + 300
        url = self.stack.url("initiator") + "/v1/designations"
        while time.monotonic() < deadline:
            try:
                r = http.post(url, json=body, headers=key)
            except httpx.HTTPError:
                time.sleep(0.5)  # the initiator is down: the same request, again
                continue
            if r.status_code in (200, 201):
                self.designated[person] = str(r.json()["designation_id"])
                self._subjects.append(person)  # a list: safe to choose from meanwhile
                return
            if r.status_code >= 500 or r.status_code == 409:
                time.sleep(0.5)
                continue
            self.errors.append(f"designation {r.status_code}: {r.text[:300]}")
            return
        self.errors.append("designation never answered")

    def _check(self, http: httpx.Client, headers: dict[str, str], subject: str) -> None:
        at = datetime.now(UTC)
        try:
            r = http.post(
                self.stack.url("responder") + "/v1/checks",
                json={"subject_id": subject, "action": ACTION},
                headers=headers,
            )
        except httpx.HTTPError:
            return  # the responder is down: no answer, nothing to judge
        if r.status_code != 200:
            if r.status_code < 500:
                self.errors.append(f"check {r.status_code}: {r.text[:300]}")
            return
        # Every answer says how fresh its data was: a responder that never caught up
        # answers 503 (found by this test, seed 351066317: it answered `allow`, with
        # no header, for a subject in force).
        header = r.headers.get("X-Data-Fresh-As-Of")
        if header is None:
            self.errors.append(f"check answered without X-Data-Fresh-As-Of: {r.text[:300]}")
            return
        self.checks.append(Check(subject, at, r.json()["decision"], datetime.fromisoformat(header)))


def in_force_then(stack: Stack, check: Check) -> bool:
    """Whether the ledger, as known when the responder's data was fresh, had the
    flight ban in force for the subject at the check's instant."""
    with stack.client("ledger", as_="auditor") as ledger:
        r = ledger.get(
            f"/v1/subjects/{check.subject_id}/status",
            params={
                "as_of": check.at.isoformat(),
                "known_at": check.fresh_as_of.isoformat(),
            },
        )
    if r.status_code == 404:
        return False
    assert r.status_code == 200, r.text
    status: dict[str, Any] = r.json()
    return any(m["measure"] == MEASURE for m in status["measures_in_force"])
