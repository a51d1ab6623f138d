"""`uvicorn --no-access-log` (the services' setting: deploy/scripts/services.sh,
bench/servers.py) stays in force once a service configures its logging: the request
middleware already logs one line per request by route template, and the access log's
second line per request cost ~14 % of the check path's event loop (py-spy, 2026-11-27,
docs/benchmarks.md). With the access log on, its lines still go through the service's
JSON handler (and its redaction), never uvicorn's plain one."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from uvicorn.config import Config

from shared.adapters.observability import configure_logging

_NAMES = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    saved = {
        n: (
            list(logging.getLogger(n).handlers),
            logging.getLogger(n).propagate,
            logging.getLogger(n).level,
        )
        for n in _NAMES
    }
    yield
    for n, (handlers, propagate, level) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.setLevel(level)


async def _app(scope: object, receive: object, send: object) -> None:
    """Never called: uvicorn's Config only configures logging here."""


def test_no_access_log_stays_off_once_the_service_configures_logging() -> None:
    Config(_app, access_log=False)  # what `uvicorn --no-access-log` does to logging
    configure_logging("responder", "WARNING")
    configure_logging("responder", "WARNING")  # a second app in the same process
    assert not logging.getLogger("uvicorn.access").hasHandlers()


def test_an_access_log_asked_for_goes_through_the_service_handler() -> None:
    Config(_app, access_log=True)
    configure_logging("responder", "INFO")
    configure_logging("responder", "INFO")
    access = logging.getLogger("uvicorn.access")
    assert access.handlers == []
    assert access.propagate
    assert access.hasHandlers()
    for name in ("uvicorn", "uvicorn.error"):
        assert logging.getLogger(name).handlers == []
        assert logging.getLogger(name).propagate
