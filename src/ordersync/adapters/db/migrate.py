"""Running the Alembic migrations from code (CLI, tests, start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ordersync.adapters.db.engine import normalise_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Our tables up to `revision`; on PostgreSQL, also the job queue's (procrastinate's
    own schema, installed once: it is not an Alembic revision of ours)."""
    command.upgrade(alembic_config(url), revision)
    from ordersync.jobs.queue import ensure_queue_schema, is_queue_database

    if is_queue_database(url):
        ensure_queue_schema(url)
