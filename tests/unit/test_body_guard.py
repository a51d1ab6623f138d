"""Hostile bodies refused by what every service app shares (shared/web): sizes (413
before the body is read), content types (415), duplicate keys and nesting (422 naming
them), each an RFC 9457 problem; the handler never runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shared.adapters.settings import ServiceSettings
from shared.web.body_guard import (
    SCAN_LIMIT,
    clean_by_its_bytes,
    refusal,
    refusal_by_decoding,
)
from shared.web.limits import BODY_ALLOWANCES, MAX_BODY_BYTES, MAX_JSON_DEPTH
from shared.web.service_app import create_service_app

BIG_ALLOWANCE = 4 * MAX_BODY_BYTES


class Item(BaseModel):
    name: str
    extra: dict[str, Any] = {}


@asynccontextmanager
async def _nothing(app: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
def handled() -> list[Any]:
    return []


@pytest.fixture
async def client(
    handled: list[Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setitem(BODY_ALLOWANCES, ("POST", "/big"), BIG_ALLOWANCE)
    app = create_service_app(name="guard", settings=ServiceSettings(), lifespan=_nothing)

    @app.post("/items")
    async def create(item: Item) -> dict[str, str]:
        handled.append(item)
        return {"name": item.name}

    @app.post("/big")
    async def big(item: Item) -> dict[str, int]:
        handled.append(item)
        return {"extra": len(item.extra)}

    @app.post("/empty")
    async def empty() -> dict[str, str]:
        handled.append(None)
        return {"ok": "yes"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://guard") as c:
        yield c


def _problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc: dict[str, Any] = r.json()
    assert doc["status"] == status
    assert doc["type"].endswith(code), doc
    return doc


async def test_a_plain_body_passes(client: httpx.AsyncClient, handled: list[Any]) -> None:
    r = await client.post("/items", json={"name": "a", "extra": {"k": [1, {"x": 2}]}})
    assert r.status_code == 200
    assert len(handled) == 1


async def test_a_body_over_the_default_limit_is_413(
    client: httpx.AsyncClient, handled: list[Any]
) -> None:
    body = b'{"name": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    r = await client.post("/items", content=body, headers={"content-type": "application/json"})
    doc = _problem(r, 413, "body_too_large")
    assert doc["errors"][0]["field"] == "body"
    ten_mb = b'{"name": "' + b"x" * 10_000_000 + b'"}'
    r = await client.post("/items", content=ten_mb, headers={"content-type": "application/json"})
    _problem(r, 413, "body_too_large")
    assert handled == []


async def test_a_route_allowance_takes_more_and_still_has_a_limit(
    client: httpx.AsyncClient, handled: list[Any]
) -> None:
    extra = {f"k{i}": "v" * 100 for i in range(2 * MAX_BODY_BYTES // 100)}
    r = await client.post("/big", json={"name": "a", "extra": extra})
    assert r.status_code == 200, r.text
    assert r.json()["extra"] == len(extra)
    over = b'{"name": "' + b"x" * BIG_ALLOWANCE + b'"}'
    r = await client.post("/big", content=over, headers={"content-type": "application/json"})
    _problem(r, 413, "body_too_large")
    assert len(handled) == 1


async def test_a_chunked_body_without_length_is_limited_too(
    client: httpx.AsyncClient, handled: list[Any]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    r = await client.post("/items", content=chunks(), headers={"content-type": "application/json"})
    _problem(r, 413, "body_too_large")
    assert handled == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""]
)
async def test_a_body_that_is_not_json_is_415(
    client: httpx.AsyncClient, handled: list[Any], content_type: str
) -> None:
    r = await client.post(
        "/items", content=b'{"name": "a"}', headers={"content-type": content_type}
    )
    doc = _problem(r, 415, "unsupported_media_type")
    assert doc["errors"][0]["field"] == "Content-Type"
    assert handled == []


async def test_json_with_a_suffix_or_charset_is_json(client: httpx.AsyncClient) -> None:
    for ct in ("application/json; charset=utf-8", "application/merge-patch+json"):
        r = await client.post("/items", content=b'{"name": "a"}', headers={"content-type": ct})
        assert r.status_code == 200, (ct, r.text)


async def test_a_route_without_a_body_takes_an_empty_one(client: httpx.AsyncClient) -> None:
    assert (await client.post("/empty")).status_code == 200
    assert (await client.post("/empty", headers={"content-type": "text/plain"})).status_code == 200


async def test_a_duplicate_key_is_named(client: httpx.AsyncClient, handled: list[Any]) -> None:
    body = b'{"name": "a", "extra": {"limit": 1, "limit": 2}}'
    r = await client.post("/items", content=body, headers={"content-type": "application/json"})
    doc = _problem(r, 422, "duplicate_key")
    assert doc["errors"] == [
        {"field": "limit", "code": "duplicate_key", "message": "a key may appear once per object"}
    ]
    assert handled == []


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 2_000, 10_000])
async def test_deep_nesting_is_refused_never_a_recursion_error(
    client: httpx.AsyncClient, handled: list[Any], depth: int
) -> None:
    inner = b"[" * depth + b"]" * depth
    body = b'{"name": "a", "extra": {"x": ' + inner + b"}}"
    r = await client.post("/items", content=body, headers={"content-type": "application/json"})
    doc = _problem(r, 422, "nesting_too_deep")
    assert doc["errors"][0]["field"] == "body"
    assert handled == []


def test_the_limit_itself_is_allowed() -> None:
    nested: Any = []
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    assert refusal(json_bytes(nested)) is None
    assert refusal(json_bytes([nested])) is not None
    assert refusal(b"not json") is None  # the route's parser answers that one (422)


def json_bytes(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


async def test_a_nul_character_is_named_not_a_500(
    client: httpx.AsyncClient, handled: list[Any]
) -> None:
    # PostgreSQL cannot store U+0000 in text: it was a 500 on POST /v1/designations
    body = b'{"name": "a", "extra": {"ids": ["ok", "x\\u0000"]}}'
    r = await client.post("/items", content=body, headers={"content-type": "application/json"})
    doc = _problem(r, 422, "nul_character")
    assert doc["errors"][0]["field"] == "extra.ids.1"
    r = await client.post("/items", params={"q": "a\x00"}, json={"name": "a"})
    assert _problem(r, 422, "nul_character")["errors"][0]["field"] == "query"
    r = await client.get("/healthz/%00")
    assert _problem(r, 422, "nul_character")["errors"][0]["field"] == "path"
    assert handled == []
    assert refusal(b'{"a": "\\\\u0000 is only spelled"}') is None  # an escaped backslash


@pytest.mark.parametrize("service", ["initiator", "responder", "ledger", "notifier"])
def test_every_service_app_runs_the_guard(service: str) -> None:
    import importlib

    from shared.web.body_guard import JsonBodyGuard

    app = importlib.import_module(f"services.{service}.app").app
    assert JsonBodyGuard in [m.cls for m in app.user_middleware]


def test_a_realistic_batch_of_10000_passes_the_guard() -> None:
    import json

    from shared.web.body_guard import body_limit
    from shared.web.limits import MAX_BATCH_ITEMS
    from tests.support.initiator_bodies import court_debtor, designation

    person = {"id": "11010519491231002X", "name": "张三", "role": "legal_representative"}
    items = [
        court_debtor(i) if i % 2 else designation(related_persons=[person])
        for i in range(MAX_BATCH_ITEMS)
    ]
    body = json.dumps({"designations": items}).encode()  # ASCII-escaped: the larger form
    assert MAX_BODY_BYTES < len(body) < body_limit("POST", "/v1/designations/batch")
    assert body_limit("POST", "/v1/designations") == MAX_BODY_BYTES
    assert refusal(body) is None


# --- the guard's two steps agree: bodies cleared from their bytes are never refused ---

_KEYS = st.sampled_from(["a", "b", "subject_id", "measure", "a\x00", "é", 'q"', "k:", "\\"])
_TEXT = st.text(alphabet=st.sampled_from('ab:"\\\x00é{[ ,\u2028'), max_size=6)
_SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | _TEXT | _KEYS


def _pairs(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An object as its list of members, so that a key may come twice."""
    return st.lists(st.tuples(_KEYS | _TEXT, children), max_size=4).map(lambda p: ("obj", p))


_VALUES = st.recursive(_SCALARS, lambda c: st.lists(c, max_size=4) | _pairs(c), max_leaves=12)
_ENCODINGS = ("utf-16", "utf-16-le", "utf-16-be", "utf-32")
_SEPARATORS = st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :\t"), (",\r", "\n:")])


def _render(value: Any, ascii_only: bool, seps: tuple[str, str]) -> str:
    import json

    if isinstance(value, tuple):
        return (
            "{"
            + seps[0].join(
                json.dumps(k, ensure_ascii=ascii_only) + seps[1] + _render(v, ascii_only, seps)
                for k, v in value[1]
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + seps[0].join(_render(v, ascii_only, seps) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    """JSON with duplicate keys, U+0000 (escaped or raw), nesting around and far beyond
    the limit, quotes, colons and backslashes in strings, odd whitespace; then cut short,
    prefixed with a byte-order mark, re-encoded or left as it is."""
    text = _render(draw(_VALUES), draw(st.booleans()), draw(_SEPARATORS))
    depth = draw(st.sampled_from([0, 0, 0, 1, MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH, 1_500]))
    text = "[" * depth + text + "]" * depth
    body = text.encode("utf-8", "surrogatepass")
    mutation = draw(st.sampled_from(["none", "none", "cut", "bom", "tail", *_ENCODINGS]))
    if mutation == "cut":
        body = body[: draw(st.integers(0, len(body)))]
    elif mutation == "bom":
        body = b"\xef\xbb\xbf" + body
    elif mutation in _ENCODINGS:
        body = text.encode(mutation, "surrogatepass")
    elif mutation == "tail":
        body += draw(st.sampled_from([b" ", b"}", b'"a":1}', b"\x00", b"\xff"]))
    return body


@example(b'{"subject_id": "91350100M000100Y43", "subject_id": "x", "measure": "m"}')
@example(b'{"subject_id": "91350100M000100Y43", "measure": "travel.restrict_flight"}')
@example(b'{"a": {"k": 1}, "b": {"k": 1}}')  # the same key in two objects: allowed
@example(b'{"a": "x\\u0000"}')
@example(b'{"a\\u0000": 1}')
@example(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
@example(b'{"a": 1, "\\u0061": 2}')  # the same key spelled twice
@example(b'{"a": 1, "a": 2} trailing')
@example('{"a": 1, "a": 2}'.encode("utf-16-le"))
@example(b"\xff\xfe" + b'{"a": 1, "a": 2}')  # a UTF-16 mark on UTF-8: not JSON
@given(hostile_bodies())
@settings(max_examples=1_500, deadline=None)
def test_clearing_a_body_by_its_bytes_refuses_what_decoding_refuses(body: bytes) -> None:
    """`refusal` clears most bodies from their bytes, without decoding them (a check's
    body, every time); whatever it clears, the decoding refuses nothing either, and
    what it does not clear gets the decoding's answer: the same problem for every body."""
    decoded = refusal_by_decoding(body)
    assert refusal(body) == decoded
    if clean_by_its_bytes(body):
        assert decoded is None


def test_a_checks_body_is_cleared_by_its_bytes_and_hostile_ones_are_not() -> None:
    check = b'{"subject_id": "91350100M000100Y43", "measure": "travel.restrict_flight"}'
    assert clean_by_its_bytes(check)
    assert not clean_by_its_bytes(check[:-1] + b', "measure": "x"}')
    # a string twice but no key twice: told apart key by key, still cleared
    assert clean_by_its_bytes(b'{"measure": "measure", "action": "measure"}')
    assert not clean_by_its_bytes(b'{"measure": "measure", "measure": "a"}')
    assert not clean_by_its_bytes(b'{"a": "\\u0000"}')
    assert not clean_by_its_bytes(b"[" * (MAX_JSON_DEPTH + 1))
    assert not clean_by_its_bytes(b'{"a": "' + b"x" * SCAN_LIMIT + b'"}')  # decoded instead
