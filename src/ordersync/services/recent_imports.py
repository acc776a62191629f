"""The latest import jobs, as the operator page lists them."""

from __future__ import annotations

from ordersync.adapters.db.import_job_queries import latest_import_jobs
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.imports import ImportJob


def recent_import_jobs(uow: UnitOfWork, limit: int = 20) -> list[ImportJob]:
    """The `limit` most recently uploaded import jobs of every operator, newest first."""
    with uow:
        return latest_import_jobs(uow.session, limit)
