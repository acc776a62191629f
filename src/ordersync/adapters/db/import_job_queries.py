"""Reads over import jobs that no job run needs: the latest jobs, for the operator page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

# The job runner's repository owns the one mapping from a job row to an ImportJob.
from ordersync.adapters.db.import_repository import _job as job_from_row
from ordersync.adapters.db.tables import import_jobs
from ordersync.domain.imports import ImportJob

jobs = import_jobs.c


def latest_import_jobs(session: Session, limit: int) -> list[ImportJob]:
    """The `limit` most recently uploaded jobs, newest first. The jobs table holds one row
    per upload, so ordering it whole stays cheap next to the uploads themselves."""
    query = select(import_jobs).order_by(jobs.created_at.desc(), jobs.id).limit(limit)
    return [job_from_row(r) for r in session.execute(query)]
