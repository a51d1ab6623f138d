"""The contract of the notifier's `SubjectViews` port (services/notifier/ports.py),
through `Transactions[Webhooks]`: the latest status kept per subject, the running
deadlines replaced with it, interceptions added up per month and measure; what a
rolled-back transaction kept is gone."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from services.notifier.changes import basis
from services.notifier.notices import WatchItem
from services.notifier.ports import Latest, NewStatus, Webhooks
from shared.ports import Transactions


def item(subject: str, key: str, deadline: date, measure: str | None = "m") -> WatchItem:
    return WatchItem(f"{subject}:{key}", "task", subject, "D-" + subject, "tax", measure, deadline)


def doc(subject: str, n: int) -> dict[str, Any]:
    return {"subject_id": subject, "n": n, "designations": [{"名称": "被执行人", "x": [1.5, None]}]}


def _task(measure: str, department: str, feedback: int, interceptions: int) -> dict[str, Any]:
    return {
        "measure": measure,
        "department": department,
        "state": "executed" if feedback else "pending",
        "feedback": [{"kind": "executed", "note": "已执行"}] * feedback,
        "interceptions": interceptions,
    }


def rich(subject: str) -> dict[str, Any]:
    """Two designations; objections, amendments, repairs, feedback and interceptions;
    a task given twice (the later one counts, as in `changes`)."""
    return {
        "subject_id": subject,
        "designations": [
            {
                "designation_id": "d1",
                "state": "in_force",
                "objections": [
                    {"objection_id": "o1", "status": "rejected"},
                    {"objection_id": "o2", "status": "open"},
                ],
                "amendments": [{"reason": "a"}, {"reason": "b"}],
                "repairs": [{"granted": True}],
                "tasks": [
                    _task("m1", "tax", 1, 0),
                    _task("m2", "court", 0, 0),
                    _task("m1", "tax", 2, 3),
                ],
            },
            {
                "designation_id": "d2",
                "state": "revoked",
                "objections": [],
                "amendments": [],
                "repairs": [],
                "tasks": [],
            },
        ],
    }


def sparse(subject: str) -> dict[str, Any]:
    """Lists and counts left out: read as empty and zero."""
    return {
        "subject_id": subject,
        "designations": [
            {
                "designation_id": "d9",
                "state": "pending",
                "tasks": [{"measure": "m", "department": "x"}],
            }
        ],
    }


class SubjectViewsContract:
    """Subclasses provide a fixture `webhooks` giving Transactions[Webhooks]."""

    async def test_the_latest_status_of_each_subject_is_kept(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        a, b = "S-" + uuid4().hex, "S-" + uuid4().hex
        async with webhooks.begin() as tx:
            assert await tx.views.latest([a, b]) == {}
            await tx.views.keep({a: Latest(1, doc(a, 1)), b: Latest(2, doc(b, 1))}, [])
        async with webhooks.begin() as tx:
            await tx.views.keep({a: Latest(3, doc(a, 2))}, [])
        async with webhooks.begin() as tx:
            assert await tx.views.latest([a, b, "S-none"]) == {a: doc(a, 2), b: doc(b, 1)}
            assert await tx.views.latest([]) == {}
            every = await tx.views.statuses()
        assert doc(a, 2) in every
        assert doc(b, 1) in every
        assert doc(a, 1) not in every

    async def test_the_basis_of_each_latest_status_is_what_changes_reads_of_it(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        a, b, c = ("S-" + uuid4().hex for _ in range(3))
        kept = {a: rich(a), b: {"subject_id": b, "designations": []}, c: sparse(c)}
        async with webhooks.begin() as tx:
            assert await tx.views.bases([a]) == {}
            await tx.views.keep({s: Latest(n, d) for n, (s, d) in enumerate(kept.items())}, [])
        async with webhooks.begin() as tx:
            got = await tx.views.bases([a, b, c, "S-none"])
            assert await tx.views.bases([]) == {}
        assert got == {s: basis(d) for s, d in kept.items()}
        assert got[a]["d1"]["tasks"] == {"m1|tax": [2, 3], "m2|court": [0, 0]}  # the last twin

    async def test_a_status_logged_in_the_transaction_is_kept_as_logged(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        """`Latest(..., logged=True)`: the status is the data of the message logged at
        its position (ingest's case); kept and read back as that status, basis too."""
        a, b = "S-" + uuid4().hex, "S-" + uuid4().hex
        statuses = {a: rich(a), b: sparse(b)}
        async with webhooks.begin() as tx:
            logged = await tx.status_log.append_many(
                [
                    NewStatus(uuid4(), s, {}, json.dumps({"id": "x", "data": d, "subject": s}))
                    for s, d in statuses.items()
                ]
            )
            positions = dict(zip(statuses, logged, strict=True))
            await tx.views.keep(
                {s: Latest(positions[s], d, logged=True) for s, d in statuses.items()}, []
            )
        async with webhooks.begin() as tx:
            assert await tx.views.latest([a, b]) == statuses
            assert await tx.views.bases([a, b]) == {s: basis(d) for s, d in statuses.items()}
        async with webhooks.begin() as tx:  # the next one replaces it
            [position] = await tx.status_log.append_many(
                [NewStatus(uuid4(), a, {}, json.dumps({"data": doc(a, 2)}))]
            )
            await tx.views.keep({a: Latest(position, doc(a, 2), logged=True)}, [])
        async with webhooks.begin() as tx:
            assert await tx.views.latest([a, b]) == {a: doc(a, 2), b: sparse(b)}

    async def test_a_subjects_deadlines_are_replaced_with_its_status(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        a, b = "S-" + uuid4().hex, "S-" + uuid4().hex
        early, late = date(2026, 3, 2), date(2026, 3, 20)
        async with webhooks.begin() as tx:
            await tx.views.keep(
                {a: Latest(1, doc(a, 1)), b: Latest(2, doc(b, 1))},
                [item(a, "1", early), item(a, "2", late), item(b, "1", early)],
            )
        async with webhooks.begin() as tx:
            mine = {i for i in await tx.views.watched(late) if i.subject_id in (a, b)}
            by_early = {i for i in await tx.views.watched(early) if i.subject_id in (a, b)}
        assert mine == {item(a, "1", early), item(a, "2", late), item(b, "1", early)}
        assert by_early == {item(a, "1", early), item(b, "1", early)}
        # a's next status: one deadline left, kept once however often it is named
        async with webhooks.begin() as tx:
            await tx.views.keep(
                {a: Latest(3, doc(a, 2))},
                [item(a, "2", late, measure=None), item(a, "2", late, measure=None)],
            )
        async with webhooks.begin() as tx:
            mine = {i for i in await tx.views.watched(late) if i.subject_id in (a, b)}
            assert len([i for i in await tx.views.watched(late) if i.subject_id == a]) == 1
        assert mine == {item(a, "2", late, measure=None), item(b, "1", early)}
        # a status with nothing running any more
        async with webhooks.begin() as tx:
            await tx.views.keep({a: Latest(4, doc(a, 3))}, [])
        async with webhooks.begin() as tx:
            assert [i for i in await tx.views.watched(late) if i.subject_id == a] == []

    async def test_a_deadline_named_twice_is_kept_as_first_named_whatever_was_kept(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        a = "S-" + uuid4().hex
        early, late = date(2026, 3, 2), date(2026, 3, 20)
        async with webhooks.begin() as tx:
            await tx.views.keep(
                {a: Latest(1, doc(a, 1))}, [item(a, "1", early), item(a, "2", late)]
            )
        async with webhooks.begin() as tx:  # "1" moved, then named again as it was
            await tx.views.keep(
                {a: Latest(2, doc(a, 2))},
                [item(a, "2", late), item(a, "1", late), item(a, "1", early)],
            )
        async with webhooks.begin() as tx:
            mine = {i for i in await tx.views.watched(late) if i.subject_id == a}
        assert mine == {item(a, "1", late), item(a, "2", late)}

    async def test_interceptions_add_up_per_month_and_measure(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        month, other = "2031-0" + str(uuid4().int % 9 + 1), "2032-01"
        measure = "m-" + uuid4().hex
        async with webhooks.begin() as tx:
            await tx.views.count_interceptions({(month, measure): 2, (other, measure): 5})
            await tx.views.count_interceptions({})
        async with webhooks.begin() as tx:
            await tx.views.count_interceptions({(month, measure): 3, (month, measure + "b"): 1})
        async with webhooks.begin() as tx:
            counts = await tx.views.interceptions(month)
        assert {k: v for k, v in counts.items() if k.startswith(measure)} == {
            measure: 5,
            measure + "b": 1,
        }

    async def test_a_rolled_back_transaction_keeps_nothing(
        self, webhooks: Transactions[Webhooks]
    ) -> None:
        a, month, measure = "S-" + uuid4().hex, "2033-03", "m-" + uuid4().hex

        async def keep_then_fail() -> None:
            async with webhooks.begin() as tx:
                await tx.views.keep({a: Latest(1, doc(a, 1))}, [item(a, "1", date(2026, 3, 2))])
                await tx.views.count_interceptions({(month, measure): 1})
                raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            await keep_then_fail()
        async with webhooks.begin() as tx:
            assert await tx.views.latest([a]) == {}
            assert [i for i in await tx.views.watched(date(2027, 1, 1)) if i.subject_id == a] == []
            assert measure not in await tx.views.interceptions(month)
