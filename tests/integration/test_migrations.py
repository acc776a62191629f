"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from ordersync.adapters.db.tables import metadata


def test_migrated_database_matches_the_declared_tables(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; Alembic says so and skips them.
        warnings.simplefilter("ignore")
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
