"""Import jobs: the job code both dispatchers run (procrastinate workers on PostgreSQL, a
thread of `ordersync serve` on SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

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
from ordersync.jobs.collector import collector_paused, sweep
from ordersync.rules.import_rows import RowParser
from ordersync.services.import_chunks import AppliedChunk, apply_chunk, write_chunk
from ordersync.services.order_context import utcnow

log = structlog.get_logger(__name__)

UowFactory = Callable[[], UnitOfWork]


CATALOG_RESTARTS = 3  # bundle loads during one partition's run
FIRST_CHUNK_SHARE = 10


def first_chunk_rows(chunk_rows: int) -> int:
    """A run's first chunk is a tenth of the others: nothing is written while it is read
    and applied, so the writer starts that much sooner (four times a million-row job with
    one worker, its four partitions one after the other)."""
    return max(1, chunk_rows // FIRST_CHUNK_SHARE)


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


@dataclass(frozen=True)
class _Partition:
    """One run of one partition of a job, and what its chunks need."""

    uow_factory: UowFactory
    job: ImportJob
    partition: int
    chunk_rows: int
    parser: RowParser
    custom_fields: Sequence[CustomField]
    actor: Actor


def _run_partition(uow_factory: UowFactory, job_id: str, partition: int, chunk_rows: int) -> None:
    with uow_factory() as uow:
        job = uow.imports.job(job_id)
        if job is None or job.status.finished:
            return
        uow.imports.start(job_id, utcnow())
        uow.commit()
        custom_fields = uow.catalog.custom_fields()
        actor = uow.imports.job_actor(job_id)
        overlapping = uow.imports.overlapping_chunks
    run = _Partition(
        uow_factory,
        job,
        partition,
        chunk_rows,
        RowParser(job.columns, {d.external_id: d for d in custom_fields}),
        custom_fields,
        actor,
    )
    with collector_paused():
        if overlapping:
            _chunks_overlapped(run)
        else:
            _chunks_in_turn(run)
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


def _chunks_in_turn(run: _Partition) -> None:
    """One chunk after the other, each read, applied, written and committed before the next
    is read (SQLite, whose reads do not wait for a writer). The first chunk is small, as
    in `_chunks_overlapped`: one job code, the same chunks whatever the database."""
    limit = first_chunk_rows(run.chunk_rows)
    while True:
        try:
            with run.uow_factory() as uow:
                # Each chunk starts after the partition's checkpoint, which it holds locked
                # until it commits (a run started again, after a crash or by a retry,
                # starts there).
                after = uow.imports.lock_checkpoint(run.job.id, run.partition)
                staged = uow.imports.next_rows(run.job.id, run.partition, limit, after)
                limit = run.chunk_rows
                if not staged:
                    return
                chunk = _apply(run, uow, staged)
                _write(run, uow, chunk)
        except _Conflict as conflict:
            _one_row_at_a_time(run, conflict.staged)


class _Conflict(Exception):
    """Another partition took an external id the chunk sets: the chunk is done again a row
    at a time, so that only the row that lost the race fails."""

    def __init__(self, staged: Sequence[CsvRecord]) -> None:
        self.staged = staged


class _Overtaken(Exception):
    """Another run of the partition (a retried task while the first still ran) committed
    past where the chunk starts: the chunk is dropped, the run goes on after that run."""


class _Dropped(Exception):
    """A chunk read and applied, whose transaction is rolled back unwritten."""


def _apply(run: _Partition, uow: UnitOfWork, staged: Sequence[CsvRecord]) -> AppliedChunk:
    return apply_chunk(uow, run.job, run.parser, run.custom_fields, staged, run.actor)


def _write(run: _Partition, uow: UnitOfWork, chunk: AppliedChunk) -> None:
    """The chunk's changes, its rows' results (the checkpoint moves past them) and counts,
    committed together."""
    try:
        write_chunk(uow, run.job, chunk)
        _commit_outcomes(run, uow, chunk.staged, chunk.refused)
    except DuplicateValue:
        log.info("import_chunk_conflict", job_id=run.job.id, partition=run.partition)
        raise _Conflict(chunk.staged) from None
    sweep()


def _commit_outcomes(
    run: _Partition, uow: UnitOfWork, staged: Sequence[CsvRecord], refused: Sequence[RowOutcome]
) -> None:
    """Rows' results (the checkpoint moves past them; only the refused ones are stored) and
    the job's counts, then the commit that lands them with whatever the rows changed."""
    uow.imports.record_chunk(
        run.job.id, run.partition, staged[-1].line_number, len(staged), refused
    )
    uow.commit()


@dataclass(frozen=True)
class _InFlight:
    """A chunk being written on the writer thread."""

    written: Future[None]
    staged: Sequence[CsvRecord]


def _chunks_overlapped(run: _Partition) -> None:
    """While one chunk is written and committed on a thread of its own, the next one is read
    and applied (PostgreSQL): the database works on one while Python works on the other.

    Each chunk still commits alone with its rows' results, in the transaction that locked
    its orders, so a crash loses or repeats nothing. A chunk that shares an order with the
    one being written waits for it at the order's lock, then reads what it wrote. The
    partition's checkpoint is taken when a chunk is written and must be where the chunk
    starts: another run of the partition that got further (a retried task while the first
    still ran) has the chunk dropped, and this run goes on after that one. A chunk is
    written only once the previous one committed; when that one failed, the chunk read
    meanwhile is dropped."""
    after: int | None = None  # where the next chunk starts (None: at the checkpoint)
    in_flight: _InFlight | None = None
    limit = first_chunk_rows(run.chunk_rows)
    with ThreadPoolExecutor(1, thread_name_prefix="import-writes") as writer:
        while True:
            transaction = ExitStack()
            uow = transaction.enter_context(run.uow_factory())
            try:
                if after is None:
                    after = uow.imports.checkpoint(run.job.id, run.partition)
                staged = uow.imports.next_rows(run.job.id, run.partition, limit, after)
                limit = run.chunk_rows
                chunk = _apply(run, uow, staged) if staged else None
            except BaseException:
                _drop(transaction)
                raise  # the writer's exit waits for a chunk in flight
            if in_flight is not None:
                try:
                    in_flight.written.result()
                except _Conflict as conflict:
                    _drop(transaction)
                    _one_row_at_a_time(run, conflict.staged)
                    after, in_flight = conflict.staged[-1].line_number, None
                    continue
                except _Overtaken:
                    _drop(transaction)
                    after, in_flight = None, None
                    continue
                except BaseException:
                    _drop(transaction)
                    raise
            if chunk is None:
                _drop(transaction)
                return
            in_flight = _InFlight(
                writer.submit(_write_in_flight, run, transaction, uow, chunk, after), staged
            )
            after = staged[-1].line_number


def _write_in_flight(
    run: _Partition, transaction: ExitStack, uow: UnitOfWork, chunk: AppliedChunk, starts: int
) -> None:
    """On the writer thread: the chunk written and committed, or its transaction rolled
    back (its locks released) before the exception is handed over."""
    with transaction:
        if uow.imports.lock_checkpoint(run.job.id, run.partition) != starts:
            log.info("import_chunk_overtaken", job_id=run.job.id, partition=run.partition)
            raise _Overtaken
        _write(run, uow, chunk)


def _drop(transaction: ExitStack) -> None:
    """Close a chunk's unit of work, its transaction rolled back unwritten."""
    dropped = _Dropped()
    transaction.__exit__(_Dropped, dropped, None)


def _one_row_at_a_time(run: _Partition, staged: Sequence[CsvRecord]) -> None:
    job, partition = run.job, run.partition
    for record in staged:
        try:
            with run.uow_factory() as uow:
                if uow.imports.lock_checkpoint(job.id, partition) >= record.line_number:
                    continue  # another run of the partition applied it meanwhile
                chunk = _apply(run, uow, [record])
                write_chunk(uow, job, chunk)
                _commit_outcomes(run, uow, chunk.staged, chunk.refused)
        except DuplicateValue:
            refused = RowOutcome(
                record.line_number,
                RowResult.ERROR,
                RowCode.EXTERNAL_ID_TAKEN.value,
                "An external id this row sets was taken by another row of the file.",
            )
            with run.uow_factory() as uow:
                if uow.imports.lock_checkpoint(job.id, partition) >= record.line_number:
                    continue
                _commit_outcomes(run, uow, [record], [refused])


def unfinished_partitions(uow_factory: UowFactory) -> list[tuple[str, int]]:
    """(job, partition) pairs left unfinished by a process that stopped: resumed at start-up
    by the in-process dispatcher."""
    with uow_factory() as uow:
        return uow.imports.unfinished_partitions()
