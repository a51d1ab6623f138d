"""Exactly once in effect (issue 6): a responder killed (SIGKILL) while designations
stream in, then restarted, reports every task's feedback once — none lost, none
repeated — counted in the ledger by (designation, measure, department, type)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.support.poll import until
from tests.support.responder_flows import (
    designate,
    feedback_counts,
    history,
    tasks_of,
    wait_feedback,
)
from tests.support.stack import Stack
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.e2e

TAX = "tax.major-violation"
N = 16


def executed(stack: Stack, subject: str) -> int:
    return sum(
        n
        for (_, _, _, kind), n in feedback_counts(history(stack, subject)).items()
        if kind == "executed"
    )


def test_a_responder_killed_mid_stream_neither_loses_nor_repeats_feedback(stack: Stack) -> None:
    subjects = [new_uscc() for _ in range(N)]
    designations: dict[str, dict[str, Any]] = {}

    def issue(batch: list[str]) -> None:
        for subject in batch:
            designations[subject] = designate(stack, subject, TAX)

    first = threading.Thread(target=issue, args=(subjects[: N // 2],))
    first.start()
    try:
        # Kill as soon as the first feedback reaches the ledger: designations are still
        # being issued and applied, feedback is in flight between outbox and Kafka.
        until(lambda: executed(stack, subjects[0]), lambda n: n > 0, timeout_s=60, every_s=0.1)
        stack.services["responder"].kill()
    finally:
        first.join()
    try:
        issue(subjects[N // 2 :])  # these arrive while the responder is down
    finally:
        stack.services["responder"].start()  # the session's stack goes on with it

    for subject in subjects:
        designation = designations[subject]
        did, tasks = designation["designation_id"], tasks_of(designation)
        counts = wait_feedback(stack, subject, did, "executed", tasks, timeout_s=90)
        assert {(m, d) for (x, m, d, k) in counts if x == did} == tasks
        assert set(counts.values()) == {1}, {k: n for k, n in counts.items() if n != 1}
