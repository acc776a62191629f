"""The FastAPI application factory."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response

from ordersync import __version__
from ordersync.adapters.db.engine import make_engine, make_session_factory
from ordersync.adapters.db.mappers import start_mappers
from ordersync.api.errors import install_error_handlers
from ordersync.api.middleware import BodySizeLimit, RequestId
from ordersync.api.routers import operator, shop
from ordersync.settings import Settings, get_settings

log = structlog.get_logger("ordersync.http")

DESCRIPTION = """
B2B commercial orders kept right: prices, stock, eligibility and quantity rules.

Every request carries `dj-client` (ACCOUNT, OPERATOR or SUPPLIER) and `dj-api-key`;
optionally `dj-store`, `dj-store-view` and `customer-account-id` (external ids).
Errors share one body: `{"status", "code", "message", "errors": [{"code", "field", "message"}]}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    start_mappers()
    engine = make_engine(settings.database_url)
    app = FastAPI(title="ordersync", version=__version__, description=DESCRIPTION)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    install_error_handlers(app)
    app.include_router(shop.router)
    app.include_router(operator.router)

    @app.middleware("http")
    async def access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        log.info(
            "request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return response

    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        overrides={"/v1/operator/data": settings.max_bundle_bytes},
    )
    app.add_middleware(RequestId)
    return app
