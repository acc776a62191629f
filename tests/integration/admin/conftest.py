"""The operator page's tests run on both databases, in a browser-like client: HTTPS (so the
Secure cookie comes back, as a browser does on localhost) and import jobs run at once
(helpers.SyncDispatcher), as the import tests do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.imports.helpers import SyncDispatcher


@pytest.fixture(autouse=True)
def jobs(app: FastAPI) -> Iterator[SyncDispatcher]:
    original = app.state.dispatcher
    dispatcher = SyncDispatcher(app.state.uow_factory)
    app.state.dispatcher = dispatcher
    yield dispatcher
    app.state.dispatcher = original


@pytest.fixture
def page(client: TestClient) -> TestClient:
    """The test client, as a browser on the page: over HTTPS, with no session yet."""
    client.base_url = client.base_url.copy_with(scheme="https")
    client.cookies.clear()
    return client
