"""Fixtures: every integration test runs once on SQLite and once on PostgreSQL.

PostgreSQL: a database of its own per test run, created on the server at
ORDERSYNC_TEST_POSTGRES_URL (default: the local trust-auth server) and dropped at the end.
With ORDERSYNC_TEST_REQUIRE_POSTGRES=1 (CI) an unreachable server fails the run instead of
skipping the PostgreSQL half.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ordersync.adapters.db.migrate import upgrade
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.api.app import create_app
from ordersync.services.data_bundle import load_bundle
from ordersync.settings import Settings
from tests.bundle import catalog_bundle

PG_SERVER = os.environ.get(
    "ORDERSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("ORDERSYNC_TEST_REQUIRE_POSTGRES") == "1"


def _postgres_database() -> Iterator[str]:
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any failure to connect means "no server"
        admin.dispose()
        reason = f"PostgreSQL not reachable at {PG_SERVER}: {type(exc).__name__}"
        if REQUIRE_PG:
            pytest.fail(reason + " (ORDERSYNC_TEST_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(reason)
    name = f"ordersync_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database holding the test catalog."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "ordersync.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    gen = _postgres_database()
    url = next(gen)
    upgrade(url)
    yield url
    for _ in gen:
        pass


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[FastAPI]:
    application = create_app(Settings(database_url=database_url, max_body_bytes=262_144))
    # The first operator of a deployment comes from `ordersync load`, as here.
    load_bundle(UnitOfWork(application.state.session_factory), catalog_bundle())
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
    with app.state.engine.begin() as conn:
        for table in ("order_lines", "logistic_orders", "commercial_orders"):
            conn.execute(text(f"DELETE FROM {table}"))
