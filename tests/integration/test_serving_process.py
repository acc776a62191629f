"""What a serving process sets up for itself when the app starts (its lifespan)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ordersync.api.app import create_app
from ordersync.settings import Settings


@pytest.fixture
def default_collector() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


@pytest.mark.usefixtures("default_collector")
def test_a_serving_process_collects_its_young_objects_less_often(app: FastAPI) -> None:
    # A request's objects are freed by reference counting when it ends; collecting every
    # 700 new objects walked a big order's lines again and again while it ran.
    assert gc.get_threshold()[0] == 700
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_threshold() == (Settings.model_fields["gc_young_threshold"].default, 10, 10)


@pytest.mark.usefixtures("default_collector")
def test_the_young_threshold_is_a_setting(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, gc_young_threshold=1_234))
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_threshold() == (1_234, 10, 10)
    finally:
        app.state.engine.dispose()
