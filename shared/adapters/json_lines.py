"""One log line: its masking, its rendering and its write.

structlog's loggers end here without the standard library: the processors' event dict is
masked (`redact`), rendered by orjson (`render`) and written as bytes, in one write, to
the stream of the handler the stdlib records go to (`LineWriter`), so both kinds of line
land in the same place, in order, with the same shape. Why not through `logging`: a
structlog line handed to the stdlib made two `LogRecord`s and ran `logging`'s handler
and formatter machinery, over half of the line's ~39 µs (py-spy of `bench/log_lines.py`,
docs/benchmarks.md "CPU per check: the request log line").
"""

from __future__ import annotations

import json
import logging
import re
import string
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
from structlog import DropEvent
from structlog.processors import NAME_TO_LEVEL

from shared.domain.identifiers import mask, mask_personal_numbers

_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def _masked(match: re.Match[str]) -> str:
    return mask(match.group(0))


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Why: a log line is kept and shipped far and wide; an identity number in it is a
    leak. Whole values go through the domain's rule, text through a pattern match."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = mask_personal_numbers(_RESIDENT_ID.sub(_masked, value))
        elif isinstance(value, dict | list | tuple):
            event[key] = mask_personal_numbers(value)
    return event


_SHAPES = bytes(
    ord("0")
    if c in string.digits
    else ord("A")
    if c in string.ascii_uppercase
    else ord(c)
    if c == '"'
    else ord(".")
    for c in map(chr, range(256))
)
"""A line's bytes with every digit as 0, every capital as A, quotes kept, the rest dots."""
_SUSPECTS = (b"0" * 17, b"A0000000")
"""In `_SHAPES`: what `redact` can change shows as one of these (a resident number has 17
digits in a row, and digits are never escaped in JSON; a passport-shaped value has a
capital before 7 or 8 digits). A line with neither is written as rendered."""


def _dumps(event: MutableMapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(event, default=repr, ensure_ascii=False, separators=(",", ":")).encode()


def render(_: Any, __: str, event: MutableMapping[str, Any]) -> bytes:
    """The event masked (`redact`) as one compact JSON object (UTF-8, non-ASCII kept; a
    value orjson cannot write, an object or an integer beyond 64 bits, never costs the
    line). Why rendered first: `redact` costs ~6 µs a line (a regular expression over
    every string), the look at the rendered bytes 0.5 µs, and almost no line needs it."""
    line = _dumps(event)
    shapes = line.translate(_SHAPES)
    if _SUSPECTS[0] in shapes or _SUSPECTS[1] in shapes:
        return _dumps(redact(_, __, event))
    return line


def render_text(logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
    """`render` for `structlog.stdlib.ProcessorFormatter`, which wants a `str`."""
    return render(logger, method, event).decode()


class Sink:
    """Where the lines go: the stream of the handler the stdlib records go to, looked up
    at each write (a test, or a second `configure_logging`, may swap it)."""

    def __init__(self) -> None:
        self.handler: logging.StreamHandler[Any] = logging.StreamHandler(sys.stderr)

    def write(self, line: bytes) -> None:
        handler = self.handler
        stream = handler.stream
        handler.acquire()
        try:
            binary = getattr(stream, "buffer", None)
            if binary is None:
                stream.write(line.decode() + "\n")
            else:  # a text stream over bytes (stderr): what it holds first, then the line
                stream.flush()
                binary.write(line + b"\n")
                binary.flush()
        except (OSError, ValueError):
            pass  # the stream is closed or gone: a log line never fails what it reports
        finally:
            handler.release()


class LineWriter:
    """structlog's logger for the services' lines (`structlog.get_logger(name)`): every
    method writes the rendered line to the sink. `name` is the `logger` field; the
    stdlib logger of that name holds the level (`by_level`), as for stdlib records."""

    __slots__ = ("name", "sink", "stdlib")

    def __init__(self, sink: Sink, name: str) -> None:
        self.name = name
        self.sink = sink
        self.stdlib = logging.getLogger(name)

    def msg(self, line: bytes) -> None:
        self.sink.write(line)

    debug = info = warning = warn = error = critical = exception = fatal = failure = log = msg


def by_level(
    logger: LineWriter, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Drop a line below its stdlib logger's level: one level for both kinds of line,
    changeable at run time as the stdlib's is."""
    if not logger.stdlib.isEnabledFor(NAME_TO_LEVEL.get(method, logging.INFO)):
        raise DropEvent
    return event


class LineWriterFactory:
    """`structlog.configure(logger_factory=...)`: a `LineWriter` named as asked, else
    after the calling module (as `structlog.stdlib.LoggerFactory` names them)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def __call__(self, *args: Any) -> LineWriter:
        return LineWriter(self.sink, str(args[0]) if args else _caller())


def _caller() -> str:
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(
        ("structlog", __name__)
    ):
        frame = frame.f_back
    return str(frame.f_globals.get("__name__", "?"))
