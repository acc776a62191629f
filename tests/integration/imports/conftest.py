"""Import tests run their jobs in the test process (helpers.SyncDispatcher) on both
databases, instead of the app's own dispatcher (a thread on SQLite, the queue's workers on
PostgreSQL, none of which runs inside a test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from tests.integration.imports.helpers import SyncDispatcher


@pytest.fixture(autouse=True)
def jobs(app: FastAPI) -> Iterator[SyncDispatcher]:
    original = app.state.dispatcher
    dispatcher = SyncDispatcher(app.state.uow_factory)
    app.state.dispatcher = dispatcher
    yield dispatcher
    app.state.dispatcher = original
