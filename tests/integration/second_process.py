"""A second serving process on the test database, as a test sees one: its own app (its own
caches and connection pool) and a client of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from ordersync.api.app import create_app
from ordersync.settings import Settings


@contextmanager
def second_process(database_url: str, **settings: Any) -> Iterator[tuple[FastAPI, TestClient]]:
    """The app and a client of it, without its lifespan: on SQLite the lifespan starts the
    in-process import dispatcher, which would take over import jobs other tests left
    unfinished (and their statements would be counted as this process's). Its connections
    are closed on exit."""
    app = create_app(Settings(database_url=database_url, **settings))
    try:
        yield app, TestClient(app)
    finally:
        app.state.engine.dispose()
