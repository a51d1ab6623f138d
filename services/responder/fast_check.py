"""`POST /v1/checks` without the framework around it, for the common case.

Why: the profile of the check (docs/benchmarks.md) spent ~30 % of the event loop in
FastAPI's request handling around the endpoint (request object, dependency solving,
body parsing and validation, response building) — more than the check itself. This
plain ASGI middleware answers a check when everything about it is ordinary: a known
department's bearer token, no `Idempotency-Key`, a JSON body that `CheckCreate`
accepts, an identifier and measures the check accepts, and the in-process index
loaded. The same functions as the FastAPI route decide and record the answer
(`checks.asked`, `checks.found_live`, `checks.journaled`), so the answer is the same.

A body the app's guard refuses (`shared/web/body_guard.py`: duplicate keys, nesting too
deep, U+0000, over the size limit while chunked) is refused as it is read, here as in
the route: answered with the guard's problem document.

Anything else — a missing or unknown token, a bad body, a refused identifier or
measure, an idempotent call, the index still loading — goes, with its body replayed,
to the FastAPI route, which answers it as before (the same problem documents naming
each bad field). The route stays declared, so the OpenAPI document still describes it.

It sits inside the request-measuring middleware (the correlation id, the log line and
the HTTP metrics stay), and sets the route on the scope for their route label.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.responder import checks
from services.responder.freshness import HEADER
from services.responder.metrics import ResponderMetrics
from services.responder.schemas import CheckCreate
from shared.adapters.loop_metrics import LoopCounterChild
from shared.domain.errors import DomainError
from shared.web.body_guard import BodyRefused
from shared.web.problems import ProblemError, problem_of, problem_response

PATH = "/v1/checks"
_JSON = (b"content-type", b"application/json")


class FastCheck:
    def __init__(self, app: ASGIApp, owner: FastAPI) -> None:
        self.app = app
        self._owner = owner
        self._route: BaseRoute | None = None
        self._decisions: dict[str, LoopCounterChild] = {}
        """`responder_checks_total`'s child per decision, of `_metrics` (why: the
        request measure's `_count`, shared/web/measure.py)."""
        self._metrics: object = None
        self._fresh: tuple[datetime | None, tuple[bytes, bytes] | None] = (None, None)
        """The freshness header of the last `caught_up_at` seen: it changes once per
        ingest round, and rendering it per check cost ~1 us."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            body, complete = await _read_body(receive)
        except BodyRefused as refused:  # the body guard outside refused it while we read
            await problem_response(refused.problem, PATH)(scope, _no_body, send)
            return
        if complete and await self._answer(scope, body, send):
            return
        await self.app(scope, _replay(body, receive, complete), send)

    async def _answer(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Answer the check if it is ordinary; False (nothing sent) otherwise."""
        # Why the state's dict: `State.__getattr__` is a Python method, 0.4 us an
        # attribute against 0.03 for the dict it reads, and a check read eight.
        state = self._owner.state._state
        index = state.get("index")
        if index is None or not index.live.loaded:
            return False
        department = _department(scope, state)
        if department is None:
            return False
        fresh = state["freshness"].caught_up_at
        if fresh is None:  # never caught up: the route refuses it (freshness.py)
            return False
        try:
            asked = checks.asked(
                CheckCreate.model_validate_json(body),
                department,
                state["catalogue"],
                as_of=datetime.now(UTC),
                fresh_as_of=fresh,
                suffix=state["settings"].topic_suffix,
            )
        except (ValidationError, ProblemError, DomainError):
            return False
        scope["route"] = self._check_route()
        try:
            payload = await checks.journaled(
                state["check_journal"], checks.found_live(index.live, asked), asked
            )
        except DomainError as refused:
            await problem_response(problem_of(refused), PATH)(scope, _no_body, send)
            return True
        self._decided(state["responder_metrics"], payload["decision"]).inc()
        content = orjson.dumps(payload)
        headers = [
            _JSON,
            (b"content-length", str(len(content)).encode()),
            self._fresh_header(fresh),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        return True

    def _fresh_header(self, fresh: datetime) -> tuple[bytes, bytes]:
        at, header = self._fresh
        if header is None or at is not fresh:  # identity: equal instants may render apart
            header = (HEADER.lower().encode(), fresh.isoformat().encode())
            self._fresh = (fresh, header)
        return header

    def _decided(self, metrics: ResponderMetrics, decision: str) -> LoopCounterChild:
        if metrics is not self._metrics:  # another lifespan's registry
            self._decisions, self._metrics = {}, metrics
        counter = self._decisions.get(decision)
        if counter is None:
            counter = self._decisions[decision] = metrics.checks.labels(decision)
        return counter

    def _check_route(self) -> BaseRoute | None:
        """The route the FastAPI router would have matched (the request metrics and
        the log line are labelled with its path)."""
        if self._route is None:
            self._route = _find_route(self._owner.routes)
        return self._route


def _find_route(routes: Any) -> BaseRoute | None:
    """`PATH`'s route among `routes`, looking inside included routers (FastAPI lists
    an included router as one entry holding the routes of `original_router`)."""
    for route in routes:
        if getattr(route, "path", None) == PATH:
            found: BaseRoute = route
            return found
        included = getattr(getattr(route, "original_router", None), "routes", None)
        if included is not None and (inner := _find_route(included)) is not None:
            return inner
    return None


def _department(scope: Scope, state: dict[str, Any]) -> str | None:
    """The caller's department if the call is ordinary: a known department's bearer
    token with the responder role, a department this process hosts, no
    Idempotency-Key, a JSON body. None: let the FastAPI route decide."""
    authorization = b""
    json_body = False
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value
        elif name == b"idempotency-key":
            return None
        elif name == b"content-type":
            json_body = value.split(b";", 1)[0].strip().lower() == b"application/json"
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if not json_body or scheme.lower() != "bearer" or not token.strip():
        return None
    principal = state["tokens"].principal(token.strip())
    if principal is None or principal.department is None or "responder" not in principal.roles:
        return None
    department: str = principal.department
    return department if department in state["hosting"].departments else None


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body; False if the client went away first."""
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")
        return body, True  # a check's body comes in one message
    chunks: list[bytes] = []
    while True:
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True
        message = await receive()


def _replay(body: bytes, receive: Receive, complete: bool) -> Receive:
    """The body already read, then whatever the server says next."""
    pending: list[Message] = [
        {"type": "http.request", "body": body, "more_body": False}
        if complete
        else {"type": "http.disconnect"}
    ]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
