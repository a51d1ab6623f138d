"""Privacy (issue 13, part 7): no full personal identity number in any log file. The
test drives the security stack with persons — designations, checks, reads by their
numbers in the path, refused requests carrying them, a 500-free run of all of the
above — then reads every log this session's stacks wrote (and the local stack's
`.local/logs`, when there is one): a resident identity number with a valid check digit,
or a passport number the test used, is a leak."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from shared.adapters.settings import LOCAL_DIR
from shared.domain.identifiers import IdentifierError, IdKind, parse_identifier
from shared.web.auth import AUDITOR, OPS
from tests.reliability.sec_stack import World, world  # noqa: F401
from tests.support import initiator_bodies as bodies
from tests.support.subjects import new_resident_id

pytestmark = pytest.mark.e2e

RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
)


def leaks(text: str, passports: set[str]) -> set[str]:
    found = set()
    for match in RESIDENT_ID.finditer(text):
        try:
            if parse_identifier(match.group(0)).kind is IdKind.RESIDENT_ID:
                found.add(match.group(0))
        except IdentifierError:
            pass  # not a valid number: nobody's
    return found | {p for p in passports if p in text}


def test_the_scanner_finds_a_number_and_ignores_masked_and_invalid_ones() -> None:
    person = new_resident_id()
    assert leaks(f'{{"subject": "{person}"}}', set()) == {person}
    assert leaks(f"path=/v1/subjects/{person}/status", set()) == {person}
    masked = person[:6] + "*" * 8 + person[-4:]
    bad = person[:-1] + ("0" if person[-1] != "0" else "1")
    assert leaks(f"{masked} {bad} a{person}b", set()) == set()
    assert leaks("G12345678", {"G12345678"}) == {"G12345678"}


def _drive(w: World, person: str, passport: str) -> None:
    holder = w.task_department
    measure = next(t["measure"] for t in w.designation["tasks"] if t["department"] == holder)

    def client(service: str, as_: str) -> httpx.Client:
        return httpx.Client(
            base_url=w.stack.url(service),
            headers={"Authorization": f"Bearer {w.tokens[as_]}"},
            timeout=60,
        )

    with client("initiator", "court") as court:
        debtor = bodies.court_debtor(1, person)
        debtor["subject"]["other_ids"] = [passport]
        created = court.post("/v1/designations", json=debtor)
        assert created.status_code == 201, created.text
        refused = {**debtor, "list_type": "court.no-such-list"}
        assert court.post("/v1/designations", json=refused).status_code == 422
        assert court.post("/v1/designations", json=[debtor]).status_code == 422
    with client("initiator", "tax") as tax:
        related = bodies.designation(
            related_persons=[{"id": person, "name": "张三", "role": "legal_representative"}]
        )
        assert tax.post("/v1/designations", json=related).status_code == 201
    with client("responder", holder) as responder:
        for subject in (person, passport, person.lower()):
            check = {"subject_id": subject, "measure": measure}
            answer = responder.post("/v1/checks", json=check)
            assert answer.status_code == 200, answer.text
        assert responder.get(f"/v1/restrictions/{person}").status_code == 200
    for as_ in ("court", holder, AUDITOR, OPS):
        with client("ledger", as_) as ledger:
            for path in ("status", "history", "history/verify", "timeline"):
                assert ledger.get(f"/v1/subjects/{person}/{path}").status_code < 500
    with client("notifier", OPS) as notifier:
        notifier.get("/v1/deliveries", params={"subject_id": person})
    time.sleep(5)  # consumers log what they apply


def _log_files(w: World) -> list[Path]:
    roots = {w.workdir.parent.parent, LOCAL_DIR / "logs"}  # this session's stacks; make up's
    return sorted({p for root in roots if root.exists() for p in root.rglob("*.log")})


def test_no_full_identity_number_in_any_log_file(world: World) -> None:  # noqa: F811
    person, passport = new_resident_id(), "E" + str(time.time_ns())[-8:]
    _drive(world, person, passport)
    files = _log_files(world)
    assert any(p.parent == world.workdir for p in files), "the stack's own logs were read"
    found: dict[str, set[str]] = {}
    size = 0
    for path in files:
        text = path.read_text(errors="replace")
        size += len(text)
        hits = leaks(text, {passport})
        if hits:
            found[str(path)] = hits
    print(f"privacy: {len(files)} log files, {size} characters, leaks: {found}")
    assert found == {}
    assert size > 0
