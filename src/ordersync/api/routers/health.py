"""Probes for load balancers and orchestrators; no authentication."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ordersync.adapters.db.health import database_health, head_revision
from ordersync.api import examples
from ordersync.api.errors import error_body
from ordersync.api.schemas.common import ErrorOut
from ordersync.domain.errors import ErrorCode, ServiceUnavailable

router = APIRouter(tags=["health"])


class AliveOut(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"
    migration: str


_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorOut,
        **examples.answer(
            error_body(
                503,
                ErrorCode.MIGRATIONS_PENDING,
                "The database is at migration 0001; this release needs 0002.",
            ),
            "The database does not answer (DATABASE_UNAVAILABLE) or is not at this release's "
            "migration (MIGRATIONS_PENDING)",
        ),
        "headers": {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        },
    }
}


@router.get(
    "/healthz",
    response_model=AliveOut,
    responses={200: examples.answer({"status": "ok"})},
    summary="Liveness: the process answers (the database is not asked)",
)
def healthz() -> AliveOut:
    return AliveOut()


@router.get(
    "/readyz",
    response_model=ReadyOut,
    responses={
        **_NOT_READY,
        200: examples.answer({"status": "ready", "database": "ok", "migration": "0002"}),
    },
    summary="Readiness: the database answers and is at this release's migration",
)
def readyz(request: Request) -> ReadyOut:
    retry_after_s: int = request.app.state.settings.db_retry_after_s
    health = database_health(request.app.state.engine)
    if not health.answered:
        raise _not_ready(
            ErrorCode.DATABASE_UNAVAILABLE, "The database does not answer.", retry_after_s
        )
    head = head_revision()
    if health.revision != head:
        raise _not_ready(
            ErrorCode.MIGRATIONS_PENDING,
            f"The database is at migration {health.revision or '(none)'}; "
            f"this release needs {head}.",
            retry_after_s,
        )
    return ReadyOut(migration=head)


def _not_ready(code: ErrorCode, message: str, retry_after_s: int) -> ServiceUnavailable:
    error = ServiceUnavailable(code, message)
    error.retry_after = retry_after_s
    return error
