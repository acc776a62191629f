"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ordersync import __version__
from ordersync.adapters.db.catalog_cache import CatalogCache
from ordersync.adapters.db.engine import engine_from_settings, make_session_factory
from ordersync.adapters.db.order_cache import OrderCache
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.api.admin import UPLOAD_PATH as ADMIN_UPLOAD_PATH
from ordersync.api.admin import install_admin
from ordersync.api.callers import Callers
from ordersync.api.errors import install_error_handlers
from ordersync.api.idempotency import Idempotency
from ordersync.api.middleware import Authenticate, CatchUnexpected, RequestChecks, RequestLog
from ordersync.api.routers import health, operator, shop
from ordersync.bootstrap import dispatcher_for, gateways
from ordersync.jobs.collector import collect_less_often, freeze_start_up_objects
from ordersync.jobs.imports import unfinished_partitions
from ordersync.services.idempotency import IdempotencyKeys
from ordersync.settings import Settings, get_settings

DESCRIPTION = """
B2B commercial orders kept right: prices, stock, eligibility and quantity rules.

Every request carries `dj-client` (ACCOUNT, OPERATOR or SUPPLIER) and `dj-api-key`;
optionally `dj-store`, `dj-store-view` and `customer-account-id` (external ids).
Errors share one body: `{"status", "code", "message", "errors": [{"code", "field", "message"}]}`.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Everything alive once the app is built (modules, the OpenAPI schema) lives as
    # long as the process: keep it out of the collector's way, or every full collection walks
    # it again and shows up as a latency spike.
    freeze_start_up_objects()
    collect_less_often(app.state.settings.gc_young_threshold)
    # On SQLite this process runs the import jobs: hand over again the partitions a stopped
    # process left unfinished (on PostgreSQL the queue keeps them; this does nothing).
    uow_factory = app.state.uow_factory
    await asyncio.to_thread(
        app.state.dispatcher.resume_unfinished, lambda: unfinished_partitions(uow_factory)
    )
    yield
    # Queued partitions are dropped and a running one is cut short when the process ends;
    # the next start-up resumes them.
    app.state.dispatcher.close(wait=False)
    app.state.gateways.close()
    app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine_from_settings(settings)
    app = FastAPI(
        title="ordersync", version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(
        engine, settings.db_retry_after_s, settings.history_enabled
    )
    # What changes only with a bundle load, read once per process and catalog version.
    cache = CatalogCache()
    app.state.catalog_cache = cache
    # Orders' rows as this process last read or wrote them (0 lines: none kept).
    app.state.order_cache = (
        OrderCache(settings.order_cache_lines) if settings.order_cache_lines else None
    )
    app.state.uow_factory = lambda: UnitOfWork(
        app.state.session_factory, cache=cache, orders=app.state.order_cache
    )
    app.state.callers = Callers(app.state.uow_factory, cache)
    # Import jobs are told to run once their row is committed (enqueue-after-commit).
    app.state.dispatcher = dispatcher_for(settings, app.state.uow_factory)
    outside = gateways(settings)
    app.state.gateways = outside
    app.state.pricing = outside.pricing
    app.state.cpq = outside.cpq
    install_error_handlers(app)
    app.include_router(shop.router)
    app.include_router(operator.router)
    app.include_router(health.router)
    install_admin(app, settings)
    # Added innermost first: a request meets RequestLog, CatchUnexpected, RequestChecks,
    # Authenticate, then Idempotency (a key belongs to the caller), before any route reads
    # its body.
    app.add_middleware(
        Idempotency,
        keys=IdempotencyKeys(
            lambda: UnitOfWork(app.state.session_factory),
            ttl_s=settings.idempotency_ttl_s,
            lock_s=settings.idempotency_lock_s,
        ),
    )
    app.add_middleware(Authenticate, callers=app.state.callers)
    app.add_middleware(
        RequestChecks,
        max_bytes=settings.max_body_bytes,
        overrides={
            "/v1/operator/data": settings.max_bundle_bytes,
            "/v1/operator/import-jobs": settings.import_max_bytes,
            ADMIN_UPLOAD_PATH: settings.import_max_bytes,
        },
    )
    app.add_middleware(CatchUnexpected)
    app.add_middleware(RequestLog)
    return app
