"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError

from ordersync.adapters.db.tables import metadata


def test_migrated_database_matches_the_declared_tables(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def declared_for_this_database(
        obj: Any, name: Any, kind: str, reflected: bool, _other: Any
    ) -> bool:
        if kind == "table" and str(name).startswith("procrastinate_"):
            return False  # the job queue's own schema (PostgreSQL), not an Alembic revision
        # An index declared for one dialect only (ddl_if) is not expected on the others.
        ddl_if = getattr(obj, "_ddl_if", None)
        return (
            reflected
            or kind != "index"
            or ddl_if is None
            or (ddl_if.dialect in (None, engine.dialect.name))
        )

    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; Alembic says so and skips them.
        warnings.simplefilter("ignore")
        context = MigrationContext.configure(
            conn, opts={"include_object": declared_for_this_database}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_order_lines_keep_room_in_their_pages_on_postgresql(client: TestClient) -> None:
    """Table storage options are not compared above: the fillfactor that the table declares
    (postgresql_with) and migration 0010 sets, read back from the catalog."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("fillfactor is a PostgreSQL storage option; SQLite has none")
    with engine.connect() as conn:
        options = conn.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'order_lines'"
        ).scalar_one()
    assert options == ["fillfactor=70"]
    assert metadata.tables["order_lines"].dialect_options["postgresql"]["with"] == {
        "fillfactor": 70
    }


def test_history_changes_are_compressed_with_lz4_on_postgresql(client: TestClient) -> None:
    """Migration 0011 (not declared on the table: SQLAlchemy has no column compression)."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("column compression is a PostgreSQL storage option; SQLite has none")
    with engine.connect() as conn:
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE TEMPORARY TABLE lz4_probe (c text COMPRESSION lz4)")
        except DBAPIError:
            pytest.skip("this PostgreSQL server was built without lz4 (the migration keeps pglz)")
        compression = conn.exec_driver_sql(
            "SELECT attcompression FROM pg_attribute"
            " WHERE attrelid = 'order_history'::regclass AND attname = 'changes'"
        ).scalar_one()
    assert compression == "l"
