"""Throwaway databases for tests that need a real PostgreSQL (integration and e2e).

A database of its own per use, created on the server at ORDERSYNC_TEST_POSTGRES_URL
(default: the local trust-auth server) and dropped at the end. With
ORDERSYNC_TEST_REQUIRE_POSTGRES=1 (CI) an unreachable server fails the test instead of
skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_SERVER = os.environ.get(
    "ORDERSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("ORDERSYNC_TEST_REQUIRE_POSTGRES") == "1"


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty database (`ordersync_test_<random>`), dropped on exit even
    if a pool still holds connections to it. Skips the test (or fails it, when PostgreSQL is
    required) if the server cannot be reached."""
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
