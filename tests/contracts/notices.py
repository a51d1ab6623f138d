"""The contract of the notifier's `Notices` port (services/notifier/ports.py),
through `Transactions[Notices]`."""

from __future__ import annotations

from uuid import uuid4

from services.notifier.notices import Notice
from services.notifier.ports import NoticeQuery, Notices
from shared.ports import Transactions


def notice(key: str, kind: str = "task_overdue", recipient: str = "mnr", **over: str) -> Notice:
    fields = {"subject_id": "S-" + key, "department": recipient, **over}
    return Notice(key, kind, "department", recipient, "中文", "English", **fields)  # type: ignore[arg-type]


class NoticesContract:
    """Subclasses provide a fixture `notices` giving Transactions[Notices]."""

    async def test_a_notice_is_told_once(self, notices: Transactions[Notices]) -> None:
        key = uuid4().hex
        async with notices.begin() as tx:
            assert await tx.tell([notice(key), notice(key)]) == 1
        async with notices.begin() as tx:
            assert await tx.tell([notice(key), notice(key + "b")]) == 1
            found = await tx.find(NoticeQuery(visible_to=None, subject_id="S-" + key))
        assert [(n["dedup_key"], n["text_zh"], n["channel"]) for n in found] == [
            (key, "中文", "stored")
        ]
        assert found[0]["id"] > 0
        assert found[0]["created_at"] is not None

    async def test_a_rolled_back_transaction_tells_nothing(
        self, notices: Transactions[Notices]
    ) -> None:
        key = uuid4().hex
        try:
            async with notices.begin() as tx:
                await tx.tell([notice(key)])
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        async with notices.begin() as tx:
            assert await tx.find(NoticeQuery(visible_to=None, subject_id="S-" + key)) == []

    async def test_a_department_sees_its_own_and_filters_hold(
        self, notices: Transactions[Notices]
    ) -> None:
        k = uuid4().hex
        mine = notice(k + "1", recipient="mnr", subject_id="S-" + k)
        about_me = notice(
            k + "2", kind="listed", recipient="S-" + k, department="mnr", subject_id="S-" + k
        )
        other = notice(k + "3", recipient="court", subject_id="S-" + k)
        async with notices.begin() as tx:
            await tx.tell([mine, about_me, other])
        async with notices.begin() as tx:
            as_mnr = await tx.find(NoticeQuery(visible_to="mnr", subject_id="S-" + k))
            assert [n["dedup_key"] for n in as_mnr] == [k + "1", k + "2"]
            every = await tx.find(NoticeQuery(visible_to=None, subject_id="S-" + k))
            assert [n["dedup_key"] for n in every] == [k + "1", k + "2", k + "3"]
            listed = await tx.find(NoticeQuery(visible_to=None, subject_id="S-" + k, kind="listed"))
            assert [n["dedup_key"] for n in listed] == [k + "2"]
            court = await tx.find(
                NoticeQuery(visible_to=None, subject_id="S-" + k, department="court")
            )
            assert [n["dedup_key"] for n in court] == [k + "3"]
            page = await tx.find(
                NoticeQuery(visible_to=None, subject_id="S-" + k, after=every[0]["id"], limit=1)
            )
            assert [n["dedup_key"] for n in page] == [k + "2"]
