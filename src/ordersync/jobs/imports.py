"""Import jobs: the job code both dispatchers run (procrastinate workers on PostgreSQL, a
thread of `ordersync serve` on SQLite)."""

from __future__ import annotations

from collections.abc import Callable

from ordersync.adapters.db.unit_of_work import UnitOfWork


def run_partition(uow_factory: Callable[[], UnitOfWork], job_id: str, partition: int) -> None:
    """Process the partition's rows that have no result yet, chunk by chunk, each chunk in
    one transaction with its rows' results (the checkpoint): safe to run again after a
    crash, no row is applied twice or lost. The last partition to finish closes the job."""
    raise NotImplementedError("being written")
