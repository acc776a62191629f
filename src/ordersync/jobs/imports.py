"""Import jobs: the job code both dispatchers run (procrastinate workers on PostgreSQL, a
thread of `ordersync serve` on SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from ordersync.adapters.csv.reader import CsvRecord
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.catalog import CustomField
from ordersync.domain.errors import CatalogChanged, DuplicateValue
from ordersync.domain.history import Actor
from ordersync.domain.imports import (
    DEFAULT_CHUNK_ROWS,
    ImportJob,
    RowCode,
    RowOutcome,
    RowResult,
)
from ordersync.rules.import_rows import RowParser
from ordersync.services.import_chunks import apply_chunk
from ordersync.services.order_context import utcnow

log = structlog.get_logger(__name__)

UowFactory = Callable[[], UnitOfWork]


CATALOG_RESTARTS = 3  # bundle loads during one partition's run


def run_partition(
    uow_factory: UowFactory, job_id: str, partition: int, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> None:
    """Process the partition's rows that have no result yet, chunk by chunk, each chunk in
    one transaction with its rows' results (the checkpoint): safe to run again after a
    crash, no row is applied twice or lost. The last partition to finish closes the job. A
    bundle load under way starts it again from its checkpoint, on the new catalog."""
    for _ in range(CATALOG_RESTARTS):
        try:
            _run_partition(uow_factory, job_id, partition, chunk_rows)
            return
        except CatalogChanged:
            log.info("import_catalog_changed", job_id=job_id, partition=partition)
    _run_partition(uow_factory, job_id, partition, chunk_rows)


def _run_partition(uow_factory: UowFactory, job_id: str, partition: int, chunk_rows: int) -> None:
    with uow_factory() as uow:
        job = uow.imports.job(job_id)
        if job is None or job.status.finished:
            return
        uow.imports.start(job_id, utcnow())
        uow.commit()
        custom_fields = uow.catalog.custom_fields()
        actor = uow.imports.job_actor(job_id)
    parser = RowParser(job.columns, {d.external_id: d for d in custom_fields})
    while True:
        with uow_factory() as uow:
            # Each chunk starts after the partition's checkpoint, which it holds locked until
            # it commits (a run started again, after a crash or by a retry, starts there).
            after = uow.imports.lock_checkpoint(job_id, partition)
            staged = uow.imports.next_rows(job_id, partition, chunk_rows, after)
            if not staged:
                break
            try:
                outcomes = apply_chunk(uow, job, parser, custom_fields, staged, actor)
                uow.imports.record_outcomes(job_id, partition, outcomes)
                uow.imports.add_counts(job_id, outcomes)
                uow.commit()
                continue
            except DuplicateValue:
                # Another partition took an external id this chunk sets: redo the chunk a
                # row at a time, so only the row that lost the race fails.
                log.info("import_chunk_conflict", job_id=job_id, partition=partition)
        _one_row_at_a_time(uow_factory, job, partition, parser, custom_fields, staged, actor)
    with uow_factory() as uow:
        finished = uow.imports.finish_if_done(job_id, utcnow())
        uow.commit()
    if finished is not None:
        log.info(
            "import_job_finished",
            job_id=job_id,
            status=finished.status.value,
            total=finished.total,
            failed=finished.failed,
        )


def _one_row_at_a_time(
    uow_factory: UowFactory,
    job: ImportJob,
    partition: int,
    parser: RowParser,
    custom_fields: Sequence[CustomField],
    staged: Sequence[CsvRecord],
    actor: Actor,
) -> None:
    for record in staged:
        try:
            with uow_factory() as uow:
                if uow.imports.lock_checkpoint(job.id, partition) >= record.line_number:
                    continue  # another run of the partition applied it meanwhile
                outcomes = apply_chunk(uow, job, parser, custom_fields, [record], actor)
                uow.imports.record_outcomes(job.id, partition, outcomes)
                uow.imports.add_counts(job.id, outcomes)
                uow.commit()
        except DuplicateValue:
            refused = RowOutcome(
                record.line_number,
                RowResult.ERROR,
                RowCode.EXTERNAL_ID_TAKEN.value,
                "An external id this row sets was taken by another row of the file.",
            )
            with uow_factory() as uow:
                if uow.imports.lock_checkpoint(job.id, partition) >= record.line_number:
                    continue
                uow.imports.record_outcomes(job.id, partition, [refused])
                uow.imports.add_counts(job.id, [refused])
                uow.commit()


def unfinished_partitions(uow_factory: UowFactory) -> list[tuple[str, int]]:
    """(job, partition) pairs left unfinished by a process that stopped: resumed at start-up
    by the in-process dispatcher."""
    with uow_factory() as uow:
        return uow.imports.unfinished_partitions()
