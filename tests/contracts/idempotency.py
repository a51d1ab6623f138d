"""The contract of `IdempotencyStore` (shared/ports.py)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import pytest

from shared.adapters.idempotency import request_fingerprint
from shared.domain.errors import IdempotencyKeyReused
from shared.ports import Answer, IdempotencyStore, Transactions


class IdempotencyContract:
    """Subclasses provide a fixture `answers` giving an IdempotencyStore (whatever its
    transactions hand the action: the actions here do not use it)."""

    async def test_a_retry_gets_the_first_answer_and_runs_nothing(
        self, answers: IdempotencyStore[Any]
    ) -> None:
        calls = 0

        async def action(tx: Any) -> Answer:
            nonlocal calls
            calls += 1
            return 201, {"n": calls}

        fp, key = request_fingerprint("POST", "/v1/x", {"a": 1}), "k/键-" + uuid4().hex
        first = await answers.run_once(principal="tax", key=key, fingerprint=fp, action=action)
        again = await answers.run_once(principal="tax", key=key, fingerprint=fp, action=action)
        assert first == again == (201, {"n": 1})
        other = await answers.run_once(principal="court", key=key, fingerprint=fp, action=action)
        assert other == (201, {"n": 2})  # the key is the caller's own
        unkeyed = await answers.run_once(principal="tax", key=None, fingerprint=fp, action=action)
        assert unkeyed == (201, {"n": 3})  # no key: every call runs

    async def test_the_same_key_for_another_request_is_refused(
        self, answers: IdempotencyStore[Any]
    ) -> None:
        async def action(tx: Any) -> Answer:
            return 200, {}

        key = uuid4().hex
        fp1, fp2 = request_fingerprint("POST", "/x", 1), request_fingerprint("POST", "/x", 2)
        await answers.run_once(principal="tax", key=key, fingerprint=fp1, action=action)
        with pytest.raises(IdempotencyKeyReused):
            await answers.run_once(principal="tax", key=key, fingerprint=fp2, action=action)

    async def test_a_refusal_is_not_stored(self, answers: IdempotencyStore[Any]) -> None:
        calls = 0

        async def refuse_once(tx: Any) -> Answer:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise LookupError("refused")
            return 201, {"n": calls}

        key, fp = uuid4().hex, request_fingerprint("POST", "/x", None)
        with pytest.raises(LookupError):
            await answers.run_once(principal="tax", key=key, fingerprint=fp, action=refuse_once)
        ok = await answers.run_once(principal="tax", key=key, fingerprint=fp, action=refuse_once)
        assert ok == (201, {"n": 2})

    async def test_concurrent_retries_run_the_action_once(
        self, answers: IdempotencyStore[Any]
    ) -> None:
        calls = 0

        async def slow(tx: Any) -> Answer:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.2)
            return 201, {"n": calls}

        key, fp = uuid4().hex, request_fingerprint("POST", "/x", None)
        got = await asyncio.gather(
            *(
                answers.run_once(principal="tax", key=key, fingerprint=fp, action=slow)
                for _ in range(4)
            )
        )
        assert calls == 1
        assert all(a == (201, {"n": 1}) for a in got)

    async def test_work_across_transactions_is_answered_once(
        self, answers: IdempotencyStore[Any]
    ) -> None:
        calls = 0

        async def batch(transactions: Transactions[Any]) -> Answer:
            nonlocal calls
            calls += 1
            for _ in range(2):  # the work's own transactions, one after the other
                async with transactions.begin():
                    await asyncio.sleep(0.1)
            return 200, {"n": calls}

        async def single(tx: Any) -> Answer:
            return 201, {"single": True}

        key, fp = uuid4().hex, request_fingerprint("POST", "/batch", [1])
        got = await asyncio.gather(
            *(
                answers.run_once_across(principal="tax", key=key, fingerprint=fp, action=batch)
                for _ in range(3)
            )
        )
        assert calls == 1
        assert all(a == (200, {"n": 1}) for a in got)
        with pytest.raises(IdempotencyKeyReused):  # the same key, the same store
            await answers.run_once(principal="tax", key=key, fingerprint="other", action=single)
