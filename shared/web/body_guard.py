"""Hostile request bodies refused at the edge, before any handler sees them.

Every service app runs this ASGI middleware (`create_service_app`):

- a body larger than its route allows (`shared.web.limits`: 1 MiB, more for the routes
  of `BODY_ALLOWANCES`) is answered 413: at once when `Content-Length` says so, as soon
  as the received bytes pass the limit otherwise (chunked), never buffered further;
- a body must be JSON (`application/json` or `application/*+json`): anything else is
  answered 415 without reading it;
- a JSON body with a key twice in one object (which value would count?) is answered
  422 naming the key; one nested deeper than `MAX_JSON_DEPTH` is answered 422, never
  a `RecursionError`;
- U+0000 in a JSON string, a path or a query is answered 422 naming where: no field
  takes it, and PostgreSQL cannot store it in text (it was a 500);

The body is checked as it is received: the handler's own `request.body()` raises the
refusal (a Starlette `HTTPException`, so FastAPI passes it to the app's problem
handler) and nothing is parsed by the handler.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.limits import BODY_ALLOWANCES, MAX_BODY_BYTES, MAX_JSON_DEPTH
from shared.web.problems import FieldError, ProblemError, problem_response

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_JSON = b"application/json"
"""The content type nearly every body has: JSON without decoding the header."""


class BodyRefused(HTTPException):
    """A refused body, carried through FastAPI's body reading to the problem handler."""

    def __init__(self, problem: ProblemError) -> None:
        super().__init__(problem.status, problem.detail)
        self.problem = problem


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _deeper_than(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _too_deep() -> ProblemError:
    return ProblemError(
        422,
        "nesting_too_deep",
        f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
        [FieldError("body", "nesting_too_deep", f"at most {MAX_JSON_DEPTH} levels")],
    )


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)
"""One decoder for every body: `json.loads` with a hook builds a new one per call (a
quarter of the guard's time on a check's body, py-spy; docs/benchmarks.md)."""


SCAN_LIMIT = 16 * 1024
"""Bodies up to this size are first looked at byte by byte (`clean_by_its_bytes`)."""


def refusal(body: bytes) -> ProblemError | None:
    """Why a JSON body is refused (duplicate key, too deep, U+0000), or None. A body that
    is not JSON at all is left to the route's own parser (422 `json_invalid`).

    Why two steps: decoding every body with the standard library's parser (a pair hook
    per object) cost 2.8 % of a check's event loop (py-spy, docs/benchmarks.md "Checks")
    although the route parses the body again; most bodies are small and flat and can be
    cleared from their bytes alone. Only the others are decoded."""
    if clean_by_its_bytes(body):
        return None
    return refusal_by_decoding(body)


def clean_by_its_bytes(body: bytes) -> bool:
    """True when no refusal can apply, seen from the bytes (False: decode to know).

    Why it is exact when True: without a backslash there is no escape, so no `\\u0000`
    (JSON's only spelling of U+0000) and every `"` opens or closes a string; without NUL
    bytes the standard library decodes the body as UTF-8 (`json.detect_encoding`; as
    UTF-16 after its byte-order mark, where no ASCII character, so no JSON, can be
    spelled without a NUL), so two keys are equal exactly when their bytes are; a key
    is a string followed by whitespace and `:`, and if no key's bytes occur twice in
    the whole body no object holds one twice; nesting deeper than `MAX_JSON_DEPTH` needs
    more opening brackets than that."""
    if (
        len(body) > SCAN_LIMIT
        or b"\\" in body
        or b"\x00" in body
        or body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH
    ):
        return False
    parts = body.split(b'"')  # strings at the odd places
    strings = parts[1:-1:2]
    if len(set(strings)) == len(strings):
        # No string twice, so no key twice: the common body is cleared without the
        # loop telling keys from values (a check's body: 1.4 -> 1.0 us, timeit).
        return True
    keys: set[bytes] = set()
    for i in range(1, len(parts) - 1, 2):
        if parts[i + 1].lstrip(b" \t\n\r")[:1] == b":":
            if parts[i] in keys:
                return False
            keys.add(parts[i])
    return True


def refusal_by_decoding(body: bytes) -> ProblemError | None:
    """`refusal`, by decoding the body (any body)."""
    if not body.strip():
        return None
    try:
        value = _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except _DuplicateKey as dup:
        return ProblemError(
            422,
            "duplicate_key",
            f"the key {dup.key!r} appears twice in one JSON object",
            [FieldError(dup.key, "duplicate_key", "a key may appear once per object")],
        )
    except RecursionError:
        return _too_deep()
    except ValueError:
        return None
    # nesting deeper than the limit needs more opening brackets than the limit (brackets
    # inside strings only add to the count): most bodies are not walked at all
    if (
        isinstance(value, dict | list)
        and body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH
        and _deeper_than(value, MAX_JSON_DEPTH)
    ):
        return _too_deep()
    if b"\\u0000" in body:  # JSON's only spelling of U+0000 (a raw NUL is not JSON)
        where = _nul_at(value)
        if where is not None:
            return _nul(where)
    return None


def _nul_at(value: Any) -> str | None:
    """The dotted path of the first string (or key) holding U+0000, if any."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path or "body"
        elif isinstance(item, dict):
            for key, child in item.items():
                inner = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    return inner
                stack.append((child, inner))
        elif isinstance(item, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(item))
    return None


def _nul(where: str) -> ProblemError:
    return ProblemError(
        422,
        "nul_character",
        f"{where} holds the character U+0000, which no field takes",
        [FieldError(where, "nul_character", "U+0000 is not allowed")],
    )


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _declared_length(headers: dict[bytes, bytes]) -> int | None:
    raw = headers.get(b"content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def body_limit(method: str, path: str) -> int:
    """The largest body `method path` takes."""
    return BODY_ALLOWANCES.get((method, path), MAX_BODY_BYTES)


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        413,
        "body_too_large",
        f"the request body is larger than the {limit} bytes this route takes",
        [FieldError("body", "body_too_large", f"at most {limit} bytes")],
    )


def _not_json(content_type: str) -> ProblemError:
    return ProblemError(
        415,
        "unsupported_media_type",
        "request bodies are JSON: send Content-Type: application/json",
        [FieldError("Content-Type", "unsupported_media_type", content_type[:100] or "none")],
    )


class JsonBodyGuard:
    """ASGI middleware: 413 for a body over its route's limit, 415 for a body that is
    not JSON; a JSON body's refusal (duplicate key, too deep) raised by the handler's
    read of it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            where = "path" if "\x00" in scope["path"] else "query"
            await problem_response(_nul(where), None)(scope, receive, send)
            return
        if scope["method"] in _NO_BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = _declared_length(headers)
        if declared == 0 or (declared is None and b"transfer-encoding" not in headers):
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["method"], scope["path"])
        refused: ProblemError | None = None
        if declared is not None and declared > limit:
            refused = _too_large(limit)
        content_type = headers.get(b"content-type", b"")
        if refused is None and content_type != _JSON:
            media = content_type.decode("latin-1")
            refused = None if is_json(media) else _not_json(media)
        if refused is not None:
            await problem_response(refused, scope.get("path"))(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0

        async def receive_checked() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                chunks.clear()
                raise BodyRefused(_too_large(limit))
            chunks.append(chunk)
            if not message.get("more_body", False):
                body = b"".join(chunks)
                chunks.clear()
                problem = refusal(body)
                if problem is not None:
                    raise BodyRefused(problem)
            return message

        await self.app(scope, receive_checked, send)
