"""Telling a worker about a job whose row is committed (enqueue-after-commit).

One job code path (`ordersync.jobs.imports.run_partition`), two ways to run it: procrastinate
workers on PostgreSQL (`ordersync worker`), a few threads of the serving process on SQLite
(`make run` needs no worker). Partitions are numbered 0 to `partitions - 1`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

import structlog

from ordersync.domain.imports import DEFAULT_CHUNK_ROWS

if TYPE_CHECKING:
    import procrastinate
    from procrastinate.types import JSONDict

    from ordersync.adapters.db.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

UnfinishedPartitions = Callable[[], Iterable[tuple[str, int]]]


class JobDispatcher(Protocol):
    def enqueue_import(self, job_id: str, partitions: int) -> None:
        """Have each partition of the import job run, once its row is committed."""

    def resume_unfinished(self, list_unfinished: UnfinishedPartitions) -> None:
        """At start-up: have the partitions `list_unfinished()` names run again, if the
        work was lost with the process that ran it."""

    def close(self, wait: bool = False) -> None:
        """Release threads or connections (`wait`: finish the work already handed over).
        A dispatcher used again after `close` starts again, as an engine after `dispose`."""


class ProcrastinateDispatcher:
    """PostgreSQL: one `import_partition` task per partition in procrastinate's queue, for
    `ordersync worker` processes; the serving process never runs them. Deferring is
    synchronous (a request thread's call), on a pool opened at the first job."""

    def __init__(self, app: procrastinate.App) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._open = False

    def enqueue_import(self, job_id: str, partitions: int) -> None:
        from ordersync.jobs.queue import IMPORT_TASK

        if partitions <= 0:
            return
        self._ensure_open()
        # One INSERT for all the partitions: they are all queued, or none is (then this
        # raises and the job is still PENDING in its row).
        arguments: list[JSONDict] = [{"job_id": job_id, "partition": p} for p in range(partitions)]
        queued = self._app.configure_task(IMPORT_TASK).batch_defer(*arguments)
        log.info("import job queued", job_id=job_id, partitions=partitions, queue_job_ids=queued)

    def resume_unfinished(self, list_unfinished: UnfinishedPartitions) -> None:
        """Nothing to do: the queue is in the database and outlives every process; a task
        whose worker died is retried by the stalled-job sweep (jobs/queue.py)."""

    def close(self, wait: bool = False) -> None:
        with self._lock:
            if self._open:
                self._app.close()
                self._open = False

    def _ensure_open(self) -> None:
        with self._lock:
            if not self._open:
                self._app.open()
                self._open = True


# The in-process dispatcher's policy: a failed partition is run again twice, after 1 s then
# 5 s, then left for the next start-up's resume (its results so far are kept).
IN_PROCESS_RETRY_BACKOFF_S = (1.0, 5.0)

_Partition = tuple[str, int]


class InProcessDispatcher:
    """SQLite: the serving process runs the partitions on a few daemon threads (one by
    default: SQLite has one writer). A process that ends drops its queued partitions; the
    next start-up's `resume_unfinished` hands them over again."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        threads: int = 1,
        retry_backoff_s: Sequence[float] = IN_PROCESS_RETRY_BACKOFF_S,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ) -> None:
        self._uow_factory = uow_factory
        self._chunk_rows = chunk_rows
        self._thread_count = threads
        self._retry_backoff_s = tuple(retry_backoff_s)
        self._lock = threading.Lock()
        # Queued or running partitions: one is never handed over twice at once (a resume
        # may name a partition a request just queued).
        self._pending: set[_Partition] = set()
        self._threads: list[threading.Thread] = []
        self._work: queue.Queue[_Partition | None] = queue.Queue()
        self._stopping = threading.Event()

    def enqueue_import(self, job_id: str, partitions: int) -> None:
        for partition in range(partitions):
            self._submit((job_id, partition))

    def resume_unfinished(self, list_unfinished: UnfinishedPartitions) -> None:
        try:
            unfinished = list(list_unfinished())
        except Exception:
            # The server still starts (a database that cannot answer is reported by
            # /readyz); the next start-up resumes them.
            log.exception("import jobs not resumed: their partitions could not be listed")
            return
        for job_id, partition in unfinished:
            self._submit((job_id, partition))
        if unfinished:
            log.info("import jobs resumed", partitions=len(unfinished))

    def close(self, wait: bool = False) -> None:
        with self._lock:
            threads, work, stopping = self._threads, self._work, self._stopping
            self._threads, self._work, self._stopping = [], queue.Queue(), threading.Event()
            if not wait:
                stopping.set()
                self._drop_queued(work)
            for _ in threads:
                work.put(None)
        if wait:
            for thread in threads:
                thread.join()

    def _submit(self, item: _Partition) -> None:
        with self._lock:
            if item in self._pending:
                return
            self._pending.add(item)
            if not self._threads:
                self._start_threads()
            self._work.put(item)

    def _start_threads(self) -> None:
        for index in range(self._thread_count):
            thread = threading.Thread(
                target=self._serve,
                args=(self._work, self._stopping),
                name=f"import-jobs-{index}",
                daemon=True,  # a running partition never holds the process's exit
            )
            thread.start()
            self._threads.append(thread)

    def _drop_queued(self, work: queue.Queue[_Partition | None]) -> None:
        while True:
            try:
                item = work.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self._pending.discard(item)

    def _serve(self, work: queue.Queue[_Partition | None], stopping: threading.Event) -> None:
        while (item := work.get()) is not None:
            try:
                if not stopping.is_set():
                    self._run(item, stopping)
            finally:
                with self._lock:
                    self._pending.discard(item)

    def _run(self, item: _Partition, stopping: threading.Event) -> None:
        from ordersync.jobs import imports  # the job code, looked up when it runs

        job_id, partition = item
        attempts = len(self._retry_backoff_s) + 1
        for attempt in range(1, attempts + 1):
            try:
                imports.run_partition(
                    self._uow_factory, job_id, partition, chunk_rows=self._chunk_rows
                )
                return
            except Exception:
                retry = attempt < attempts
                log.exception(
                    "import partition failed",
                    job_id=job_id,
                    partition=partition,
                    attempt=attempt,
                    will_retry=retry,
                )
                if not retry or stopping.wait(self._retry_backoff_s[attempt - 1]):
                    return
