"""How fresh the responder's store is (freshness.py): until the first catch-up ever
it answers no check (503 `data_not_caught_up`) and is not ready; afterwards the
instant it caught up is what the checks say."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.responder.freshness import RETRY_AFTER_S, Freshness, NotCaughtUp
from shared.domain.errors import DependencyUnavailable
from shared.web.problems import problem_of


def _never_caught_up() -> Freshness:
    engine: Any = None  # neither `required` nor `ready` touches the database
    return Freshness(engine, "responder-ingest", persist_every_s=5.0)


def test_before_the_first_catch_up_a_check_is_a_503_naming_kafka() -> None:
    freshness = _never_caught_up()
    with pytest.raises(DependencyUnavailable) as refused:
        freshness.required()
    problem = problem_of(refused.value)
    assert (problem.status, problem.code) == (503, "data_not_caught_up")
    assert [e.field for e in problem.errors] == ["kafka"]
    assert problem.headers == {"Retry-After": str(RETRY_AFTER_S)}


async def test_before_the_first_catch_up_the_responder_is_not_ready() -> None:
    freshness = _never_caught_up()
    with pytest.raises(NotCaughtUp):
        await freshness.ready()
    at = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    freshness.caught_up_at = at  # as `load` or `note` set it
    await freshness.ready()
    assert freshness.required() == at
