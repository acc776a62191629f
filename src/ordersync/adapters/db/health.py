"""What a readiness probe asks of the database: does it answer, and at which migration."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import structlog
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ordersync.adapters.db.migrate import alembic_config

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DatabaseHealth:
    answered: bool
    revision: str | None = None  # None: never migrated, or no answer


def database_health(engine: Engine) -> DatabaseHealth:
    """Read the database's Alembic revision through the pool; any failure to read it means
    the database cannot serve this process (logged with its cause), never an exception."""
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        log.warning(
            "readiness_database_failed",
            error=type(cause).__name__,
            detail=str(cause).split("\n", 1)[0],
        )
        return DatabaseHealth(answered=False)
    return DatabaseHealth(answered=True, revision=revision)


@cache
def head_revision() -> str:
    """The newest migration this release ships, read once per process."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if head is None:
        raise RuntimeError("The release ships no migration.")
    return head
