"""Composition root: one place wires settings, the database and the outside systems for the
API, the command line, the worker and the simulators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from ordersync.adapters.cpq.registry import CpqClients
from ordersync.adapters.db.engine import engine_from_settings, make_session_factory
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.adapters.pricing.registry import PricingClients
from ordersync.domain.cpq import CpqGateways
from ordersync.domain.pricing import PricingGateways
from ordersync.jobs.dispatch import InProcessDispatcher, JobDispatcher, ProcrastinateDispatcher
from ordersync.settings import Settings


def unit_of_work_factory(settings: Settings) -> tuple[Callable[[], UnitOfWork], Engine]:
    """A unit-of-work factory on a new engine (dispose the engine when done)."""
    engine = engine_from_settings(settings)
    session_factory = make_session_factory(
        engine, settings.db_retry_after_s, settings.history_enabled
    )
    return (lambda: UnitOfWork(session_factory)), engine


def dispatcher_for(settings: Settings, uow_factory: Callable[[], UnitOfWork]) -> JobDispatcher:
    """Where import jobs run: procrastinate's queue on PostgreSQL (`ordersync worker`
    processes run them), threads of the serving process on SQLite."""
    from ordersync.jobs.queue import is_queue_database, queue_app

    if is_queue_database(settings.database_url):
        return ProcrastinateDispatcher(queue_app(settings, deferring_only=True))
    return InProcessDispatcher(uow_factory, chunk_rows=settings.import_chunk_rows)


@dataclass(frozen=True)
class Gateways:
    """The outside systems, one client (and circuit breaker) per URL, created lazily."""

    pricing: PricingGateways
    cpq: CpqGateways

    def close(self) -> None:
        for registry in (self.pricing, self.cpq):
            close = getattr(registry, "close", None)
            if close is not None:
                close()


def gateways(settings: Settings) -> Gateways:
    return Gateways(PricingClients(settings), CpqClients(settings))
