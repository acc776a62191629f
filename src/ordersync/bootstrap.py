"""Composition root: one place wires settings, the database and the outside systems for the
API, the command line, the worker and the simulators."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from ordersync.adapters.db.engine import engine_from_settings, make_session_factory
from ordersync.adapters.db.mappers import start_mappers
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.settings import Settings


def unit_of_work_factory(settings: Settings) -> tuple[Callable[[], UnitOfWork], Engine]:
    """A unit-of-work factory on a new engine (dispose the engine when done)."""
    start_mappers()
    engine = engine_from_settings(settings)
    session_factory = make_session_factory(engine, settings.db_retry_after_s)
    return (lambda: UnitOfWork(session_factory)), engine
