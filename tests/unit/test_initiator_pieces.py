"""Small pure pieces of the initiator: lock order, batch parsing, the ledger's answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.initiator import batch_view
from services.initiator.api_common import department_of
from services.initiator.batch import Refused, designation_id_for, parse
from services.initiator.ledger_client import (
    LedgerUnavailable,
    is_sanctioned,
    ops_token,
    sanctioned_refusal,
    unavailable,
)
from services.initiator.locks import lock_order, ordered
from services.initiator.subjects import subject_key
from services.initiator.views import shown_id
from shared.domain.catalogue.index import default_index
from shared.domain.errors import CommandRefused
from shared.web.auth import DEPARTMENT_ROLES, Principal
from shared.web.problems import problem_of
from tests.unit.domain_fixtures import bad_check, resident_id, uscc


def test_locks_go_organisations_first_then_persons_then_the_rest() -> None:
    person, org = resident_id(3), uscc(5)
    assert ordered([person, "garbage", org, person]) == [org, person, "garbage"]
    assert lock_order(org)[0] < lock_order(person)[0] < lock_order("x")[0]


def test_subject_key_is_canonical_or_raw() -> None:
    assert subject_key([uscc(1).lower()]) == uscc(1)
    assert subject_key([" bad "]) == "BAD"


def test_only_departments_act() -> None:
    assert department_of(Principal("tax", DEPARTMENT_ROLES)) == "tax"
    with pytest.raises(CommandRefused) as refused:
        department_of(Principal("ops", frozenset({"ops"})))
    problem = problem_of(refused.value)
    assert problem.status == 403
    assert problem.errors[0].field == "Authorization"


def test_identity_numbers_shown_masked_unless_allowed() -> None:
    person = resident_id(4)
    assert shown_id(person, False) != person
    assert shown_id(person, True) == person
    assert shown_id(uscc(2), False) == uscc(2)


def _item(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"id": resident_id(9), "name": "n"},
        "list_type": "court.dishonest-debtor",
        "level": "serious",
        "reason": "r",
        "decision_no": "d",
        "decided_at": "2026-01-05",
    }
    body.update(overrides)
    return body


def test_batch_items_are_validated_one_by_one() -> None:
    at = datetime(2026, 2, 1, tzinfo=UTC)
    items = parse(
        [
            _item(related_persons=[{"id": resident_id(8), "name": "p", "role": "principal"}]),
            {"subject": "nope"},
            _item(list_type="tax.a-grade"),
        ],
        "court",
        at,
        default_index(),
        principal="court",
        key="k1",
    )
    assert items[0].command is not None
    assert items[0].refusal is None
    assert items[0].related == [resident_id(8)]
    assert items[0].command.designation_id == designation_id_for("court", "k1", 0)
    assert items[1].command is None
    assert items[1].refusal is not None
    problem = batch_view.problem(Refused(1, items[1].refusal))
    assert problem.status == 422
    assert {e.field for e in problem.errors} >= {"subject", "list_type"}
    assert (items[0].incentive, items[2].incentive) == (False, True)


def test_keyed_batch_ids_are_stable_unkeyed_ones_fresh() -> None:
    assert designation_id_for("a", "k", 3) == designation_id_for("a", "k", 3)
    assert designation_id_for("a", "k", 3) != designation_id_for("b", "k", 3)
    assert designation_id_for("a", None, 3) != designation_id_for("a", None, 3)


def test_summary_counts() -> None:
    doc = batch_view.summary([{"index": 0, "status": 201}, Refused(1, sanctioned_refusal())])
    assert (doc["accepted"], doc["rejected"]) == (1, 1)
    refused = doc["results"][1]
    assert (refused["index"], refused["status"]) == (1, 409)
    assert refused["type"].endswith("incentive_while_sanctioned")


def test_reading_the_ledgers_status() -> None:
    assert is_sanctioned({"restricted": True, "measures_in_force": []}) is True
    assert is_sanctioned({"restricted": False, "measures_in_force": [{"measure": "m"}]}) is True
    assert is_sanctioned({"restricted": False, "measures_in_force": []}) is False
    unreadables: list[Any] = [{}, {"restricted": "no"}, [], None]
    for unreadable in unreadables:
        with pytest.raises(LedgerUnavailable):
            is_sanctioned(unreadable)


def test_cross_check_problems() -> None:
    sanctioned, away = problem_of(sanctioned_refusal()), problem_of(unavailable())
    assert (sanctioned.status, sanctioned.code) == (409, "incentive_while_sanctioned")
    assert (away.status, away.code) == (503, "ledger_unavailable")
    assert away.headers == {"Retry-After": "5"}
    assert [e.field for e in away.errors] == ["subject.id"]


def test_ops_token_from_the_tokens_file(tmp_path: Any) -> None:
    path = tmp_path / "tokens.json"
    assert ops_token(path) is None
    path.write_text('{"ops": "secret", "tax": "t"}')
    assert ops_token(path) == "secret"
    path.write_text("not json")
    assert ops_token(path) is None


def test_bad_check_character_is_not_a_key_collision() -> None:
    assert subject_key([bad_check(uscc(1))]) != uscc(1)
