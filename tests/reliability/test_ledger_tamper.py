"""Integrity (issue 13, part 7): `jsb ledger verify` finds an event row altered and one
deleted behind the database's back (as its superuser, the append-only trigger turned
off, in a scratch schema), names both streams (identity numbers masked) and exits 1;
untouched, and on the security stack after its traffic, every chain verifies."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.domain.identifiers import mask, parse_identifier
from shared.domain.vocabulary import SubjectKind
from tests.reliability.sec_stack import World, world  # noqa: F401
from tests.support.infra import Infra
from tests.support.ledger_events import Script, feedback
from tests.support.ledger_harness import Ledger, ledger
from tests.support.subjects import new_resident_id, new_uscc

JSB = str(Path(sys.executable).with_name("jsb"))


@pytest.fixture(scope="module")
async def led(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledger]:
    async with ledger(infra, tmp_path_factory.mktemp("ledger")) as it:
        yield it


def verify(url: str, schema: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JSB, "ledger", "verify", "--database-url", url, "--schema", schema],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def _stream(led: Ledger, subject: str) -> list[dict[str, int]]:
    s = Script(subject)
    person = parse_identifier(subject).subject_kind is SubjectKind.PERSON
    list_type = "court.dishonest-debtor" if person else "tax.major-violation"
    issued = s.issue(list_type=list_type, level="especially_serious")
    await led.producer.send([issued, *feedback(issued, only=3)])
    await led.wait_caught_up()
    async with led.admin.connect() as conn:
        rows = await conn.execute(
            text("SELECT position, stream_version FROM events WHERE stream = :s ORDER BY 2"),
            {"s": subject},
        )
        return [dict(r._mapping) for r in rows]


@pytest.mark.integration
async def test_an_altered_and_a_deleted_row_are_found(led: Ledger) -> None:
    altered, deleted, untouched = new_uscc(), new_resident_id(), new_uscc()
    rows = {s: await _stream(led, s) for s in (altered, deleted, untouched)}
    assert all(len(r) == 4 for r in rows.values())
    clean = await asyncio.to_thread(verify, led.infra.admin_url, led.schema)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "verified 3 streams: 0 broken" in clean.stdout

    async with led.admin.begin() as conn:  # the superuser, behind the service's back
        await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        await conn.execute(
            text(
                "UPDATE events SET payload = jsonb_set(payload, '{data,note}', '\"forged\"') "
                "WHERE position = :p"
            ),
            {"p": rows[altered][2]["position"]},
        )
        await conn.execute(
            text("DELETE FROM events WHERE position = :p"), {"p": rows[deleted][1]["position"]}
        )
        await conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_append_only"))

    found = await asyncio.to_thread(verify, led.infra.admin_url, led.schema)
    assert found.returncode == 1, found.stdout + found.stderr
    broken = [line for line in found.stdout.splitlines() if line.startswith("BROKEN")]
    assert len(broken) == 2, found.stdout
    by_stream = {line.split()[1].rstrip(":"): line for line in broken}
    assert "hash_mismatch" in by_stream[altered]
    assert "version 3" in by_stream[altered]
    # the row of version 2 is gone: version 3 stands where 2 should
    assert "version_gap" in by_stream[mask(deleted)]
    assert "version 3" in by_stream[mask(deleted)]
    assert deleted not in found.stdout + found.stderr  # a person's number, masked
    assert untouched not in by_stream
    assert "verified 3 streams: 2 broken" in found.stdout


@pytest.mark.e2e
def test_every_chain_of_the_security_stack_verifies(world: World) -> None:  # noqa: F811
    stack = world.stack
    result = verify(stack.infra.admin_url, "ledger" + stack.schema_suffix)
    assert result.returncode == 0, result.stdout + result.stderr
    streams = int(result.stdout.split("verified ")[1].split()[0])
    assert streams >= 1
