"""uvicorn's own loggers go through the same redacting JSON formatter as ours: a 500's
traceback (Starlette hands it to the server after the problem is sent) carried SQL
parameters, identity numbers among them, to the log file in clear."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from shared.adapters.observability import configure_logging
from tests.support.subjects import new_resident_id


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    uvicorn = logging.getLogger("uvicorn.error")
    uv_saved = uvicorn.handlers[:], uvicorn.propagate
    # as uvicorn configures itself: its own handler, not propagating
    uvicorn.handlers[:] = [logging.StreamHandler(io.StringIO())]
    uvicorn.propagate = False
    configure_logging("initiator")
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)
    uvicorn.handlers[:], uvicorn.propagate = uv_saved
    structlog.reset_defaults()


def test_the_servers_traceback_is_redacted(out: io.StringIO) -> None:
    person = new_resident_id()
    try:
        raise RuntimeError(f"[parameters: ('subject:{person}',)]")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    text = out.getvalue()
    assert "Exception in ASGI application" in text
    assert person[:6] in text
    assert person not in text
