"""A request that fails because PostgreSQL cannot be reached is answered 503 with a
problem document and Retry-After (it was 500 "internal": found by
tests/reliability/test_broker_db_faults.py), any other unexpected error still 500."""

from __future__ import annotations

import asyncpg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError, ProgrammingError

from shared.adapters.db import database_unreachable
from shared.web.problems import install_problem_handlers


def _wrapped(inner: BaseException, *, invalidated: bool = False) -> DBAPIError:
    try:
        raise DBAPIError("SELECT 1", None, inner, connection_invalidated=invalidated) from inner
    except DBAPIError as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        _wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("closed mid-operation")),
        _wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting")),
        _wrapped(Exception("gone"), invalidated=True),
    ],
)
def test_lost_connections_are_unreachable(exc: BaseException) -> None:
    assert database_unreachable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("a bug"),
        _wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")),
        ProgrammingError("SELECT nope", None, Exception("syntax")),
    ],
)
def test_failed_statements_are_not(exc: BaseException) -> None:
    assert not database_unreachable(exc)


def _app(exc: Exception) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/x")
    async def fail() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


def test_unreachable_database_is_503_with_retry_after() -> None:
    r = _app(_wrapped(ConnectionRefusedError(111, "refused"))).get("/x")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "5"
    assert r.json()["type"].endswith("database_unavailable")


def test_any_other_error_is_still_500() -> None:
    r = _app(ValueError("a bug")).get("/x")
    assert r.status_code == 500
    assert r.json()["type"].endswith("internal")
