"""What the departments write and report is what they wrote before this code changed:
one fixed stream of designation events (a court list, a tax designation with a manual
measure, its objection and rejection, a revocation, a second designation) through the
ingest and every department's passes on the real Postgres gives the task rows and the
feedback (without the rows' timestamps and the events' ids and times) that main as of
42c9d79 gave for the same stream (tests/support/planning_golden.py made both files)."""

from __future__ import annotations

import json

import pytest

from tests.support.infra import Infra
from tests.support.planning_golden import EXPECTED, INPUT, outcome

pytestmark = pytest.mark.integration


async def test_the_same_task_rows_and_feedback_as_before(infra: Infra) -> None:
    batches = json.loads(INPUT.read_text())
    made = await outcome(batches, infra.database_url, infra.admin_url, infra.service_role)
    expected = json.loads(EXPECTED.read_text())
    assert len(made["tasks"]) == len(expected["tasks"]) > 200
    for got, want in zip(made["tasks"], expected["tasks"], strict=True):
        assert got == want
    assert made["feedback"] == expected["feedback"]
