"""Fixtures: every integration test runs once on SQLite and once on PostgreSQL.

PostgreSQL: a database of its own per test run (tests/databases.py), created on the server
at ORDERSYNC_TEST_POSTGRES_URL (default: the local trust-auth server) and dropped at the end.
With ORDERSYNC_TEST_REQUIRE_POSTGRES=1 (CI) an unreachable server fails the run instead of
skipping the PostgreSQL half.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from ordersync.adapters.db.migrate import upgrade
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.api.app import create_app
from ordersync.services.data_bundle import load_bundle
from ordersync.settings import Settings
from tests.bundle import catalog_bundle
from tests.databases import postgres_database


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
    with postgres_database() as url:
        upgrade(url)
        yield url


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
        # The history has no foreign key to its orders (migration 0013): deleted with them.
        for table in ("order_history", "order_lines", "logistic_orders", "commercial_orders"):
            conn.execute(text(f"DELETE FROM {table}"))
