"""The check's plain ASGI fast path: an ordinary check is answered without the FastAPI
route, from the in-process index and after its record is journaled; anything else
reaches the route with its body intact (the route answers refusals as before). On the
in-memory adapters of the responder's ports (memory.py, live_index.py): no I/O."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.datastructures import State
from starlette.types import Message, Receive, Scope, Send

from services.responder.app import create_app
from services.responder.fast_check import FastCheck
from services.responder.live_index import IndexChanges, LiveIndex
from services.responder.memory import MemoryCheckJournal
from services.responder.metrics import ResponderMetrics
from services.responder.restriction_index import IndexRow
from shared.domain.catalogue.index import default_index
from shared.web.auth import TokenRegistry
from shared.web.body_guard import JsonBodyGuard, refusal_by_decoding
from shared.web.limits import MAX_JSON_DEPTH
from tests.support.subjects import new_uscc

MEASURE = "travel.restrict_flight"
TOKEN = "caac-token"
BLOCKED = new_uscc()
FRESH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Downstream:
    """The FastAPI app behind the fast path: what reached it, and with which body."""

    bodies: list[bytes] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


def _owner(
    journal: MemoryCheckJournal, loaded: bool = True, caught_up: datetime | None = FRESH
) -> Any:
    live = LiveIndex(frozenset({"caac"}))
    row = IndexRow(
        department="caac",
        subject_id=BLOCKED,
        measure=MEASURE,
        designation_id=uuid4(),
        list_type="court.dishonest-debtor",
        active_from=datetime.now(UTC) - timedelta(days=1),
        active_until=None,
        ordinal=0,
    )
    live.apply(IndexChanges(rows={BLOCKED: [row]}, identifiers=[(BLOCKED, BLOCKED)]))
    live.loaded = loaded
    state = State(  # the app's own state type (the fast path reads its dict)
        dict(
            index=SimpleNamespace(live=live),
            tokens=TokenRegistry({"caac": TOKEN, "rail": "rail-token", "auditor": "aud"}),
            hosting=SimpleNamespace(departments=frozenset({"caac"})),
            catalogue=default_index(),
            freshness=SimpleNamespace(caught_up_at=caught_up),
            settings=SimpleNamespace(topic_suffix=".t"),
            check_journal=journal,
            responder_metrics=ResponderMetrics.on(),
        )
    )
    return SimpleNamespace(state=state, routes=[SimpleNamespace(path="/v1/checks")])


async def _call(
    fast: FastCheck, body: bytes, headers: dict[str, str] | None = None, chunks: int = 1
) -> tuple[int, dict[bytes, bytes], bytes]:
    given = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    given.update(headers or {})
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/checks",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in given.items() if v],
    }
    size = max(1, len(body) // chunks + 1)
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages: list[Message] = [
        {"type": "http.request", "body": p, "more_body": n < len(parts) - 1}
        for n, p in enumerate(parts)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await fast(scope, receive, send)
    start = sent[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def _body(**fields: str) -> bytes:
    return orjson.dumps({"subject_id": BLOCKED, "measure": MEASURE, **fields})


async def test_an_ordinary_check_is_answered_without_the_route() -> None:
    journal, route = MemoryCheckJournal(), Downstream()
    fast = FastCheck(route, _owner(journal))
    status, headers, content = await _call(fast, _body(), chunks=3)
    answer = orjson.loads(content)
    assert (status, answer["decision"], route.bodies) == (200, "block", [])
    assert [r["measure"] for r in answer["reasons"]] == [MEASURE]
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"x-data-fresh-as-of"] == b"2026-01-01T00:00:00+00:00"
    # answered once recorded: the record carries the check id and the interception
    [record] = journal.checks
    assert str(record.check_id) == answer["check_id"]
    assert (record.decision, len(record.interceptions)) == ("block", 1)
    status, _, content = await _call(fast, _body(subject_id=new_uscc()))
    assert (status, orjson.loads(content)["decision"]) == (200, "allow")


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"authorization": ""}, _body()),
        ({"authorization": "Bearer nobody"}, _body()),
        ({"authorization": "Bearer aud"}, _body()),  # not a department
        ({"authorization": "Bearer rail-token"}, _body()),  # not hosted here
        ({"idempotency-key": "k1"}, _body()),
        ({"content-type": "text/plain"}, _body()),
        ({}, b"{not json"),
        ({}, _body(extra="field")),
        ({}, _body(subject_id="91350100M000100Y4X")),  # bad check digit
        ({}, _body(measure="no.such_measure")),
        ({}, _body(action="book_flight")),  # both measure and action
        ({}, orjson.dumps({"subject_id": BLOCKED, "action": "bid_public_tender"})),  # not caac's
    ],
)
async def test_anything_else_reaches_the_route_with_its_body(
    headers: dict[str, str], body: bytes
) -> None:
    journal, route = MemoryCheckJournal(), Downstream()
    status, _, content = await _call(FastCheck(route, _owner(journal)), body, headers, chunks=2)
    assert (status, content, route.bodies, journal.checks) == (299, b"route", [body], [])


async def test_until_the_index_is_loaded_the_route_answers() -> None:
    journal, route = MemoryCheckJournal(), Downstream()
    status, _, _ = await _call(FastCheck(route, _owner(journal, loaded=False)), _body())
    assert (status, route.bodies) == (299, [_body()])


async def test_a_store_never_caught_up_answers_nothing_here() -> None:
    """Before the responder's first catch-up with the broker it cannot say how fresh its
    data is; the route refuses such a check (503 data_not_caught_up), so the fast path
    must not answer it from the index (it did: an `allow` for a subject in force)."""
    journal, route = MemoryCheckJournal(), Downstream()
    fast = FastCheck(route, _owner(journal, caught_up=None))
    body = _body(subject_id=new_uscc())
    status, _, _ = await _call(fast, body)
    assert (status, route.bodies, journal.checks) == (299, [body], [])


async def test_a_check_not_recorded_is_a_503_problem_and_no_answer() -> None:
    route = Downstream()
    status, headers, content = await _call(
        FastCheck(route, _owner(MemoryCheckJournal(down=True))), _body()
    )
    problem = orjson.loads(content)
    assert (status, problem["type"], route.bodies) == (503, "urn:jsb:problem:store_unavailable", [])
    assert headers[b"content-type"] == b"application/problem+json"
    assert "decision" not in problem


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            b'{"subject_id": "' + BLOCKED.encode() + b'", "subject_id": "x", "measure": "m"}',
            "duplicate_key",
        ),
        (b"[" * 10_000 + b"]" * 10_000, "nesting_too_deep"),
    ],
)
async def test_a_body_the_guard_refuses_is_its_problem_not_a_500(body: bytes, code: str) -> None:
    """Behind the body guard (as every service app runs it), a body the guard refuses
    while the fast path reads it is answered with the guard's problem document (it
    escaped the fast path as an exception: a 500, found by tests/reliability)."""
    journal, route = MemoryCheckJournal(), Downstream()
    guarded = JsonBodyGuard(FastCheck(route, _owner(journal)))
    length = {"content-length": str(len(body))}
    status, headers, content = await _call(guarded, body, length, chunks=2)  # type: ignore[arg-type]
    problem = orjson.loads(content)
    assert (status, problem["type"], route.bodies, journal.checks) == (
        422,
        f"urn:jsb:problem:{code}",
        [],
        [],
    )
    assert headers[b"content-type"] == b"application/problem+json"


def test_the_fast_path_labels_its_answers_with_the_real_apps_check_route() -> None:
    """The request metrics (`jsb_check_seconds`, `http_requests_total{route}`) read the
    route from the scope: in the real app the check route sits inside an included
    router, where a flat look through `app.routes` found nothing (the checks were
    counted as "unmatched" and `jsb_check_seconds` stayed at 0)."""
    app = create_app()
    route = FastCheck(Downstream(), app)._check_route()
    assert route is not None
    assert getattr(route, "path", None) == "/v1/checks"


_MEMBERS = st.sampled_from(
    [
        ("subject_id", BLOCKED),
        ("subject_id", new_uscc()),
        ("subject_id", "x\x00"),
        ("measure", MEASURE),
        ("measure", "travel.\x00"),
        ("action", "book_flight"),
        ("subject\x00id", BLOCKED),
        ("extra", [[[]]]),
    ]
)


@st.composite
def hostile_checks(draw: st.DrawFn) -> bytes:
    """Check bodies with a member twice (the same value or another), U+0000 in a key or
    a value, nesting around the limit, spelled with or without escapes."""
    members = draw(st.lists(_MEMBERS, min_size=1, max_size=4))
    ascii_only = draw(st.booleans())
    text = (
        "{"
        + ", ".join(
            json.dumps(k, ensure_ascii=ascii_only) + ": " + json.dumps(v, ensure_ascii=ascii_only)
            for k, v in members
        )
        + "}"
    )
    depth = draw(st.sampled_from([0, 0, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH]))
    return ('{"x": ' * depth + text + "}" * depth).encode()


@example(_body())
@example(
    b'{"subject_id": "'
    + BLOCKED.encode()
    + b'", "measure": "x", "measure": "'
    + MEASURE.encode()
    + b'"}'
)
@given(hostile_checks())
@settings(max_examples=300, deadline=None)
def test_behind_the_guard_a_hostile_check_gets_the_guards_answer(body: bytes) -> None:
    """Every service app runs the body guard outside the fast path: whatever the guard's
    decoding refuses is answered with its problem (nothing journaled, the route never
    runs), and everything else is answered by the fast path or the route, as if the
    guard were not there (docs/benchmarks.md: the guard clears a check's body from its
    bytes without decoding it)."""
    expected = refusal_by_decoding(body)
    journal, route = MemoryCheckJournal(), Downstream()
    guarded = JsonBodyGuard(FastCheck(route, _owner(journal)))
    length = {"content-length": str(len(body))}
    status, _, content = asyncio.run(_call(guarded, body, length, chunks=2))  # type: ignore[arg-type]
    if expected is not None:
        assert (status, route.bodies, journal.checks) == (expected.status, [], [])
        assert orjson.loads(content) == expected.document("/v1/checks")
    else:
        unguarded = Downstream()
        want, _, _ = asyncio.run(_call(FastCheck(unguarded, _owner(MemoryCheckJournal())), body))
        assert (status, len(route.bodies)) == (want, len(unguarded.bodies))


async def test_answers_are_counted_by_decision_in_the_current_registry() -> None:
    """`responder_checks_total{decision}` counts the fast path's answers, in the
    registry of the app's current lifespan (a new one starts from nothing)."""
    owner = _owner(MemoryCheckJournal())
    fast = FastCheck(Downstream(), owner)
    for body in (_body(), _body(), _body(subject_id=new_uscc())):
        await _call(fast, body)
    counted = owner.state.responder_metrics.checks
    assert counted.labels("block").value == 2
    assert counted.labels("allow").value == 1
    owner.state.responder_metrics = ResponderMetrics.on()
    await _call(fast, _body())
    assert counted.labels("block").value == 2
    assert owner.state.responder_metrics.checks.labels("block").value == 1
