"""The services' log lines since structlog renders its own (shared/adapters/json_lines.py,
no stdlib record): the same fields, in the same order, with the same values as when
every line went through the standard library's `logging` — `_previous` below is that
configuration as it was — for a request's line and for a library's stdlib record; the
masking the same as the previous `_redact` on any line (property test); the level, the
stream and the service followed when they change; a value orjson cannot write never
costs the line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.adapters.json_lines import render
from shared.adapters.observability import (
    _ids,
    configure_logging,
    event_ids,
    line_logger,
    reset_event_ids,
)
from shared.adapters.settings import ServiceSettings
from shared.domain.identifiers import mask, mask_personal_numbers
from shared.web.service_app import create_service_app
from tests.support.subjects import new_resident_id

_OLD_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def _old_redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """`shared/adapters/observability.py::_redact` before this change, verbatim."""
    for key, value in event.items():
        if isinstance(value, str):
            value = _OLD_RESIDENT_ID.sub(lambda m: mask(m.group(0)), value)
            event[key] = mask_personal_numbers(value)
        elif isinstance(value, dict | list):
            event[key] = mask_personal_numbers(value)
    return event


def _previous(service: str, stream: io.StringIO) -> None:
    """`configure_logging` before this change (its processors, its formatter, structlog
    through the stdlib), writing to `stream`."""

    def add_service(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        return event

    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        add_service,
        _ids,
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            _old_redact,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logging.getLogger().handlers[:] = [handler]
    logging.getLogger().setLevel("INFO")
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    structlog.reset_defaults()


def _ours(service: str, level: str = "INFO") -> io.StringIO:
    configure_logging(service, level)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return stream


def _parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


@asynccontextmanager
async def _nothing(app: FastAPI) -> AsyncIterator[None]:
    yield


def _app() -> FastAPI:
    app = create_service_app(name="ledger", settings=ServiceSettings(), lifespan=_nothing)

    @app.get("/v1/subjects/{subject_id}/status")
    async def status(subject_id: str) -> dict[str, str]:
        return {"ok": "yes"}

    return app


def _same_line(new: dict[str, Any], old: dict[str, Any]) -> None:
    assert list(new) == list(old)
    assert {k: v for k, v in new.items() if k != "time"} == {
        k: v for k, v in old.items() if k != "time"
    }
    for line in (new, old):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", line["time"])


async def test_a_requests_line_has_the_fields_order_and_values_it_had() -> None:
    person = new_resident_id()
    stream = _ours("ledger")
    transport = httpx.ASGITransport(app=_app())
    headers = {"x-correlation-id": f"corr {person}", "x-causation-id": "cause-1"}
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
        answer = await client.get(f"/v1/subjects/{person}/status", headers=headers)
    assert answer.status_code == 200
    [new] = [line for line in _parsed(stream) if line["logger"] == "jsb.http"]

    before = io.StringIO()
    _previous("ledger", before)
    tokens = event_ids(f"corr {person}", "cause-1")
    try:  # what shared/web/measure.py called before, with the request's values
        fields = {k: new[k] for k in ("method", "route", "status", "ms")}
        structlog.get_logger("jsb.http").info("request", **fields)
    finally:
        reset_event_ids(tokens)
    [old] = _parsed(before)

    _same_line(new, old)
    assert new["correlation_id"] == f"corr {mask(person)}"
    assert (new["route"], new["service"], new["level"]) == (
        "/v1/subjects/{subject_id}/status",
        "ledger",
        "info",
    )
    assert person not in stream.getvalue()


def _library_record(person: str) -> None:
    tokens = event_ids("corr-2", None)
    try:
        try:
            raise ConnectionError(f"node 1 refused [parameters: ('{person}',)]")
        except ConnectionError:
            logging.getLogger("aiokafka.conn").warning(
                "Unable to connect to %s", "node-1", exc_info=True, extra={"node": 1}
            )
    finally:
        reset_event_ids(tokens)


def test_a_librarys_stdlib_record_has_the_fields_order_and_values_it_had() -> None:
    person = new_resident_id()
    stream = _ours("responder")
    _library_record(person)
    [new] = _parsed(stream)
    before = io.StringIO()
    _previous("responder", before)
    _library_record(person)
    [old] = _parsed(before)
    _same_line(new, old)
    assert new["logger"] == "aiokafka.conn"
    assert new["node"] == 1
    assert mask(person) in new["exception"]
    assert person not in stream.getvalue()


_TEXT = st.text(alphabet="0123456789XxABEGZab-_ /:\n\"\\'*", max_size=40)
_PERSONS = st.builds(new_resident_id)
_STRINGS = st.one_of(
    _TEXT,
    _PERSONS,
    st.builds(lambda a, p, b: a + p + b, _TEXT, _PERSONS, _TEXT),
    st.from_regex(r"\A[A-Z]{1,2}[0-9]{7,8}\Z"),
)
_VALUES = st.one_of(
    _STRINGS,
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),  # orjson: null, not `Infinity`
    st.none(),
    st.lists(_STRINGS, max_size=3),
    st.dictionaries(_TEXT, _STRINGS, max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(alphabet="abcdefgh_", min_size=1, max_size=8), _VALUES))
def test_every_line_is_masked_as_the_previous_redaction_masked_it(event: dict[str, Any]) -> None:
    old_line = structlog.processors.JSONRenderer()(None, "info", _old_redact(None, "", dict(event)))
    assert json.loads(render(None, "info", dict(event))) == json.loads(old_line)


def test_a_passport_or_an_identity_number_in_a_tuple_is_masked_too() -> None:
    person = new_resident_id()
    line = json.loads(render(None, "info", {"subjects": (person, "E12345678", "plain")}))
    assert line["subjects"] == [mask(person), mask("E12345678"), "plain"]


def test_the_level_is_the_stdlib_loggers_and_follows_it() -> None:
    stream = _ours("notifier", "INFO")
    http = logging.getLogger("jsb.http")
    log = line_logger("jsb.http")
    log.info("request", n=1)
    http.setLevel(logging.WARNING)
    try:
        log.info("request", n=2)
        structlog.get_logger("jsb.http").info("request", n=3)
        log.warning("slow", n=4)
    finally:
        http.setLevel(logging.NOTSET)
    assert [(x["n"], x["level"]) for x in _parsed(stream)] == [(1, "info"), (4, "warning")]


def test_a_cached_logger_follows_a_second_configuration() -> None:
    first = _ours("initiator")
    log = structlog.get_logger("jsb.test")
    log.info("one")
    second = _ours("ledger", "WARNING")
    log.info("dropped")
    log.error("two")
    assert [(x["message"], x["service"]) for x in _parsed(first)] == [("one", "initiator")]
    assert [(x["message"], x["service"], x["level"]) for x in _parsed(second)] == [
        ("two", "ledger", "error")
    ]


def test_both_kinds_of_line_reach_a_byte_stream_in_order() -> None:
    configure_logging("responder")
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="utf-8", line_buffering=True)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(text)
    text.write("partial ")  # pending in the text layer: written before the next line
    logging.getLogger("jsb.a").info("1")
    line_logger("jsb.b").info("2")
    logging.getLogger("jsb.a").info("3 中文")
    structlog.get_logger("jsb.b").info("4")
    lines = raw.getvalue().decode().splitlines()
    assert lines[0].startswith("partial {")
    lines[0] = lines[0].removeprefix("partial ")
    assert [json.loads(x)["message"] for x in lines] == ["1", "2", "3 中文", "4"]
    assert "中文" in raw.getvalue().decode()  # not escaped, as before


def test_a_value_orjson_cannot_write_never_costs_the_line() -> None:
    stream = _ours("ledger")

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    structlog.get_logger("jsb.test").info("odd", big=2**70, obj=Opaque(), keys={1: "a"})
    [line] = _parsed(stream)
    assert (line["big"], line["obj"], line["keys"]) == (2**70, "<opaque>", {"1": "a"})
