"""Structured logs (shared/adapters/observability.py): JSON lines with the service, the
correlation and causation ids, extras, and no personal identity number."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from shared.adapters.observability import configure_logging, event_ids, reset_event_ids
from shared.domain.identifiers import mask
from tests.support.subjects import new_resident_id


@pytest.fixture
def lines():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("ledger")
    out = io.StringIO()
    ours = root.handlers[0]
    assert isinstance(ours, logging.StreamHandler)
    ours.setStream(out)
    yield lambda: [json.loads(x) for x in out.getvalue().splitlines() if x]
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_stdlib_and_structlog_lines_carry_the_ids_and_mask_identity_numbers(lines) -> None:  # type: ignore[no-untyped-def]
    person = new_resident_id()
    tokens = event_ids("corr-1", "cause-1")
    try:
        logging.getLogger("jsb.test").info("subject %s refused", person, extra={"records": 3})
        structlog.get_logger("jsb.test").warning("lookup", subject=person, n=2)
    finally:
        reset_event_ids(tokens)
    logging.getLogger("jsb.test").info("after")
    first, second, third = lines()
    for line in (first, second):
        assert line["service"] == "ledger"
        assert line["correlation_id"] == "corr-1"
        assert line["causation_id"] == "cause-1"
        assert "time" in line
    assert first["message"] == f"subject {mask(person)} refused"
    assert first["records"] == 3
    assert first["level"] == "info"
    assert second["subject"] == mask(person)
    assert second["level"] == "warning"
    assert "correlation_id" not in third
    assert person not in json.dumps([first, second, third])
