"""Real webhook receivers for tests: HTTP servers on loopback, each in a thread, that
verify every delivery with the `standardwebhooks` package from PyPI (an independent
implementation of the specification, not the notifier's code) and record it.

`behaviour(webhook_id, n)` decides each answer: an HTTP status, or `HANG` (never
answer — the request is held until the client gives up or the server stops; its
`released_at` records when)."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

HANG = -1
Behaviour = Callable[[str, int], int]


def always(status: int = 204) -> Behaviour:
    return lambda _id, _n: status


def fail_first(times: int, status: int = 503, then: int = 200) -> Behaviour:
    return lambda _id, n: status if n <= times else then


@dataclass
class Received:
    at: float
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    answered: int
    verified: bool
    released_at: float | None = None
    """A held (`HANG`) request: when the client closed it (None: still open)."""
    noted: int | None = None
    """What the receiver's `note` said when this request had fully arrived."""

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    behaviour: Behaviour = field(default_factory=always)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    note: Callable[[], int] | None = None
    """Asked as each request has fully arrived (e.g. another receiver's `holding`)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _held: set[socket.socket] = field(default_factory=set)

    def holding(self) -> int:
        """How many of its `HANG` requests are held open now: connections whose client
        has not closed them, as the kernel sees it (no close is in flight unnoticed)."""
        with self._lock:
            held = list(self._held)
        return sum(1 for conn in held if _open(conn))

    def verifies(self, r: Received, secret: str) -> bool:
        try:
            Webhook(secret).verify(r.body, r.headers)
            return True
        except WebhookVerificationError:
            return False

    def attempts(self, webhook_id: str) -> int:
        with self._lock:
            return sum(1 for r in self.received if r.webhook_id == webhook_id)

    def accepted(self) -> list[Received]:
        """Deliveries answered 2xx, first per webhook-id (what the receiver acts on:
        a duplicate webhook-id is dropped, as the specification advises)."""
        seen: set[str] = set()
        out = []
        with self._lock:
            for r in self.received:
                if 200 <= r.answered < 300 and r.webhook_id not in seen:
                    seen.add(r.webhook_id)
                    out.append(r)
        return out

    def handle(self, headers: dict[str, str], body: bytes) -> Received:
        wid = headers.get("webhook-id", "")
        verified = any(self._verify(s, headers, body) for s in self.secrets)
        n = self.attempts(wid) + 1
        answer = self.behaviour(wid, n) if verified else 401
        noted = self.note() if self.note is not None else None
        got = Received(time.time(), wid, headers, body, answer, verified, noted=noted)
        with self._lock:
            self.received.append(got)
        return got

    @staticmethod
    def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
        try:
            Webhook(secret).verify(body, headers)
            return True
        except WebhookVerificationError:
            return False


def _open(conn: socket.socket) -> bool:
    """The client has not closed it: nothing (not even the end) to read yet."""
    try:
        return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def _client_closes(conn: socket.socket, stop: threading.Event) -> bool:
    """Hold `conn` unanswered until its client closes it (True) or `stop` (False)."""
    deadline = time.monotonic() + 120
    while not stop.is_set() and time.monotonic() < deadline:
        readable, _, _ = select.select([conn], [], [], 0.05)
        if readable:
            try:
                if conn.recv(1, socket.MSG_PEEK) == b"":
                    return True
            except OSError:
                return True
            time.sleep(0.05)
    return False


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            got = receiver.handle(headers, body)
            if got.answered == HANG:
                with receiver._lock:
                    receiver._held.add(self.connection)
                try:
                    if _client_closes(self.connection, receiver._stop):
                        got.released_at = time.time()
                finally:
                    with receiver._lock:
                        receiver._held.discard(self.connection)
                return
            self.send_response(got.answered)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver._stop.set()
        server.shutdown()
        server.server_close()
