"""When the database cannot serve (down, unreachable, pool exhausted, locked) the API answers
503 DATABASE_UNAVAILABLE with Retry-After, never 500; /healthz and /readyz tell a load
balancer whether to send traffic."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError

from ordersync.adapters.db.engine import make_session_factory
from ordersync.adapters.db.errors import is_unavailable
from ordersync.adapters.db.health import head_revision
from ordersync.adapters.db.migrate import upgrade
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.api.app import create_app
from ordersync.domain.errors import ErrorCode, ServiceUnavailable
from ordersync.settings import Settings
from tests.api import headers

ORDER = "/v1/shop/commercial-orders/260-211-8089581"
UNKNOWN_KEY = {"dj-client": "ACCOUNT", "dj-api-key": "x"}


@contextmanager
def served(**settings: Any) -> Iterator[TestClient]:
    app = create_app(Settings(**settings))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.state.engine.dispose()


def unavailable(response: Any, retry_after: int, code: str = "DATABASE_UNAVAILABLE") -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body == {"status": 503, "code": code, "message": body["message"], "errors": []}
    assert body["message"]
    assert response.headers["Retry-After"] == str(retry_after)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- the database is not there -----------------------------------------------------------


def test_an_unreachable_postgresql_answers_503_and_only_readiness_fails() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    with served(database_url=url, db_connect_timeout_s=1, db_retry_after_s=7) as client:
        unavailable(client.get(ORDER, headers=UNKNOWN_KEY), retry_after=7)
        unavailable(client.get("/readyz"), retry_after=7)
        alive = client.get("/healthz")
    assert alive.status_code == 200
    assert alive.json() == {"status": "ok"}


def test_a_sqlite_file_that_cannot_be_opened_answers_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-directory' / 'ordersync.db'}"
    with served(database_url=url, db_retry_after_s=7) as client:
        unavailable(client.get(ORDER, headers=UNKNOWN_KEY), retry_after=7)
        unavailable(client.get("/readyz"), retry_after=7)
        assert client.get("/healthz").status_code == 200


# --- every pooled connection is taken ----------------------------------------------------


def test_an_exhausted_pool_answers_503_until_a_connection_comes_back(database_url: str) -> None:
    with served(
        database_url=database_url,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout_s=0.2,
        db_retry_after_s=3,
    ) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        with engine.connect():
            unavailable(client.get(ORDER, headers=headers("x")), retry_after=3)
        answered = client.get(ORDER, headers=headers("x"))
    # 401 for the unknown key: the database answered.
    assert answered.status_code == 401, answered.text
    assert answered.json()["code"] == "INVALID_API_KEY"


# --- readiness ---------------------------------------------------------------------------


def test_readiness_names_the_migration_of_a_database_at_head(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "database": "ok", "migration": head_revision()}


def test_readiness_fails_while_migrations_are_pending(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ordersync.db'}"
    upgrade(url, "0001")
    with served(database_url=url) as client:
        response = client.get("/readyz")
    unavailable(response, retry_after=Settings().db_retry_after_s, code="MIGRATIONS_PENDING")
    assert "0001" in response.json()["message"]


def test_readiness_fails_on_a_database_never_migrated(tmp_path: Path) -> None:
    with served(database_url=f"sqlite:///{tmp_path / 'empty.db'}") as client:
        response = client.get("/readyz")
    unavailable(response, retry_after=Settings().db_retry_after_s, code="MIGRATIONS_PENDING")


# --- which failures mean "the database cannot serve now" ---------------------------------


def _wrapped(cause: Exception, **kwargs: Any) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError.instance("SELECT 1", {}, cause, psycopg.Error, **kwargs)


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.OperationalError("connection failed: Connection refused"),
        psycopg.OperationalError("connection timeout expired"),
        psycopg.errors.TooManyConnections("sorry, too many clients already"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CrashShutdown("terminating connection due to crash of another process"),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.errors.ConnectionFailure("connection failure"),
    ],
    ids=lambda cause: type(cause).__name__,
)
def test_postgresql_failures_to_serve_are_unavailable(cause: Exception) -> None:
    assert is_unavailable(_wrapped(cause))


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.errors.UniqueViolation("duplicate key value"),
        psycopg.errors.ForeignKeyViolation("violates foreign key constraint"),
        psycopg.errors.StringDataRightTruncation("value too long"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        psycopg.errors.UndefinedTable("relation does not exist"),
    ],
    ids=lambda cause: type(cause).__name__,
)
def test_failures_of_the_request_itself_are_not_unavailable(cause: Exception) -> None:
    assert not is_unavailable(_wrapped(cause))


def test_a_pool_timeout_and_a_broken_connection_are_unavailable() -> None:
    assert is_unavailable(sa_exc.TimeoutError("QueuePool limit of size 1 overflow 0 reached"))
    broken = psycopg.errors.UniqueViolation("reported as the connection broke")
    assert is_unavailable(_wrapped(broken, connection_invalidated=True))


def test_errors_that_are_not_database_failures_are_not_unavailable() -> None:
    assert not is_unavailable(StaleDataError("UPDATE matched 0 rows"))
    assert not is_unavailable(ValueError("bad"))


def test_sqlite_cannot_open_and_locked_are_unavailable_other_errors_are_not(
    tmp_path: Path,
) -> None:
    def sqlite_error(work: Any) -> sqlite3.Error:
        with pytest.raises(sqlite3.Error) as caught:
            work()
        return caught.value

    cannot_open = sqlite_error(lambda: sqlite3.connect(tmp_path / "missing" / "x.db"))
    holder = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    waiter = sqlite3.connect(tmp_path / "x.db", isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    locked = sqlite_error(lambda: waiter.execute("BEGIN IMMEDIATE"))
    no_table = sqlite_error(lambda: holder.execute("SELECT * FROM nowhere"))
    holder.close()
    waiter.close()

    def wrapped(cause: sqlite3.Error) -> sa_exc.DBAPIError:
        return sa_exc.DBAPIError.instance("SELECT 1", {}, cause, sqlite3.Error)

    assert is_unavailable(wrapped(cannot_open))
    assert is_unavailable(wrapped(locked))
    assert not is_unavailable(wrapped(no_table))


# --- the unit of work translates -----------------------------------------------------------


def test_the_unit_of_work_turns_a_failure_to_serve_into_database_unavailable() -> None:
    engine = create_engine("sqlite://")
    failure = _wrapped(psycopg.errors.AdminShutdown("terminating connection"))
    with pytest.raises(ServiceUnavailable) as caught, UnitOfWork(make_session_factory(engine, 9)):
        raise failure
    assert caught.value.code is ErrorCode.DATABASE_UNAVAILABLE
    assert caught.value.retry_after == 9
    assert caught.value.__cause__ is failure


def test_the_unit_of_work_lets_other_failures_through_unchanged() -> None:
    engine = create_engine("sqlite://")
    failure = _wrapped(psycopg.errors.UniqueViolation("duplicate key value"))
    with pytest.raises(sa_exc.DBAPIError) as caught, UnitOfWork(make_session_factory(engine)):
        raise failure
    assert caught.value is failure


def test_the_probes_are_documented_with_examples_and_no_authentication(
    client: TestClient,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/healthz", "/readyz"):
        operation = paths[path]["get"]
        assert operation["tags"] == ["health"]
        assert "example" in str(operation["responses"]["200"]), path
        assert "parameters" not in operation, path
    assert "Retry-After" in paths["/readyz"]["get"]["responses"]["503"]["headers"]
