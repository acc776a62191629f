"""The operator page at /admin (SPEC §7): server-rendered, for OPERATOR users."""

from __future__ import annotations

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ordersync.api.admin.router import router
from ordersync.api.admin.session import FALLBACK_SECRET
from ordersync.settings import Settings

log = structlog.get_logger("ordersync.admin")

UPLOAD_PATH = "/admin/imports"  # gets the import's body limit (app.py)


def install_admin(app: FastAPI, settings: Settings) -> None:
    """Add the page's routes and its stylesheet, and the secret its CSRF tokens use."""
    if settings.admin_secret is None:
        log.warning(
            "admin_secret_unset",
            detail="ORDERSYNC_ADMIN_SECRET is not set: the operator page's CSRF tokens rest "
            "on the API key digest alone. Set it to a long random value in production.",
        )
        app.state.admin_secret = FALLBACK_SECRET
    else:
        app.state.admin_secret = settings.admin_secret.get_secret_value().encode()
    app.include_router(router)
    app.mount(
        "/admin/static",
        StaticFiles(packages=[("ordersync.api.admin", "static")]),
        name="admin-static",
    )
