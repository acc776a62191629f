"""The job queue on PostgreSQL: procrastinate's App, its tasks, its schema and the worker.

The API process only defers (a synchronous connector); `ordersync worker` processes run the
tasks, several of them on several machines sharing the queue through the database. The
task runs `ordersync.jobs.imports.run_partition`, the same job code the in-process
dispatcher runs on SQLite.

A worker killed without a chance to stop (SIGKILL, a lost machine) leaves its task
`doing`; its heartbeat then stops, and after `queue_stalled_after_s` the stalled-job sweep
of any live worker puts the task back in the queue.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import procrastinate
import psycopg
import structlog
from procrastinate import exceptions as queue_errors
from procrastinate.schema import SchemaManager
from psycopg import conninfo
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ordersync.adapters.db.engine import normalise_url
from ordersync.jobs.collector import freeze_start_up_objects
from ordersync.settings import Settings

if TYPE_CHECKING:
    from ordersync.adapters.db.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

IMPORTS_QUEUE = "imports"
UPKEEP_QUEUE = "queue_upkeep"  # the stalled-job sweep, on a worker slot of its own
IMPORT_TASK = "ordersync.import_partition"
RETRY_STALLED_TASK = "ordersync.retry_stalled_jobs"

# The job code is idempotent (each chunk's results are its checkpoint), so any failure is
# retried, after 2, 4, 8, 16 then 32 s; the sixth failure fails the task. Putting back a
# stalled task (its worker died) counts as an attempt too.
IMPORT_RETRY = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2)

# A worker updates its heartbeat three times per stall delay, so it is declared dead only
# after missing two in a row (procrastinate's defaults: every 10 s, dead after 30 s).
HEARTBEATS_PER_STALL_DELAY = 3
# The sweep runs every third of the stall delay, at most every 10 s, so that a dead
# worker's task is back in the queue at most 1.33 x the stall delay after its last heartbeat.
MAX_SWEEP_INTERVAL_S = 10
# A task put back by the sweep is not notified (no INSERT): workers find it when they poll.
MAX_FETCH_POLLING_INTERVAL_S = 5.0  # procrastinate's default
# The API defers a job's tasks in one INSERT: a serving process needs no more than this.
DEFER_POOL_MAX_CONNECTIONS = 2


def is_queue_database(database_url: str) -> bool:
    """The queue runs on PostgreSQL only; SQLite runs jobs in the serving process."""
    return make_url(normalise_url(database_url)).get_backend_name() == "postgresql"


def libpq_conninfo(database_url: str, connect_timeout_s: int | None = None) -> str:
    """The libpq connection string of a SQLAlchemy URL (`postgresql+psycopg://u:p@h:5432/db
    ?sslmode=require` -> `user=u password=p host=h port=5432 dbname=db sslmode=require`)."""
    url = make_url(normalise_url(database_url))
    params: dict[str, Any] = {
        "user": url.username,
        "password": url.password,
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
    }
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    if connect_timeout_s is not None:
        params.setdefault("connect_timeout", connect_timeout_s)
    return conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})


class WorkerUnitsOfWork:
    """The unit-of-work factory of a worker process, built on first use and shared by its
    task threads (one engine and pool per process, however many tasks run)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._built: tuple[Callable[[], UnitOfWork], Engine] | None = None

    def factory(self) -> Callable[[], UnitOfWork]:
        with self._lock:
            if self._built is None:
                from ordersync.bootstrap import unit_of_work_factory

                self._built = unit_of_work_factory(self._settings)
            return self._built[0]

    def dispose(self) -> None:
        with self._lock:
            if self._built is not None:
                self._built[1].dispose()
                self._built = None


def queue_app(
    settings: Settings,
    *,
    deferring_only: bool = False,
    units_of_work: WorkerUnitsOfWork | None = None,
) -> procrastinate.App:
    """The queue on `settings.database_url` (PostgreSQL), with its tasks.

    `deferring_only`: a synchronous connector with a small pool, for a process that defers
    from synchronous code and never runs tasks (the API; open it with `app.open()`). Else
    the asynchronous connector a worker needs (`app.open_async()`)."""
    dsn = libpq_conninfo(settings.database_url, settings.db_connect_timeout_s)
    connector: procrastinate.BaseConnector
    if deferring_only:
        connector = procrastinate.SyncPsycopgConnector(
            conninfo=dsn,
            min_size=0,  # no connection until the first job is deferred
            max_size=DEFER_POOL_MAX_CONNECTIONS,
            timeout=settings.db_pool_timeout_s,
        )
    else:
        connector = procrastinate.PsycopgConnector(
            conninfo=dsn,
            min_size=1,
            # Each running task, the heartbeats, the periodic deferrer and the sweep.
            max_size=settings.queue_worker_concurrency + 4,
        )
    app = procrastinate.App(connector=connector)
    units = units_of_work or WorkerUnitsOfWork(settings)

    @app.task(name=IMPORT_TASK, queue=IMPORTS_QUEUE, retry=IMPORT_RETRY)
    def import_partition(job_id: str, partition: int) -> None:
        # A sync task: procrastinate runs it in a thread of its own, so the worker's event
        # loop (heartbeats, notifications) keeps running while the partition is imported.
        from ordersync.jobs import imports

        imports.run_partition(
            units.factory(), job_id, partition, chunk_rows=settings.import_chunk_rows
        )

    stalled_after_s = settings.queue_stalled_after_s

    @app.periodic(cron=_every_seconds(sweep_interval_s(stalled_after_s)))
    @app.task(name=RETRY_STALLED_TASK, queue=UPKEEP_QUEUE, queueing_lock=RETRY_STALLED_TASK)
    async def retry_stalled(timestamp: int) -> None:
        await retry_stalled_jobs(app, stalled_after_s)

    return app


def heartbeat_interval_s(stalled_after_s: float) -> float:
    return stalled_after_s / HEARTBEATS_PER_STALL_DELAY


def sweep_interval_s(stalled_after_s: float) -> int:
    return max(1, min(MAX_SWEEP_INTERVAL_S, round(stalled_after_s / 3)))


def _every_seconds(seconds: int) -> str:
    # procrastinate reads a sixth cron column as seconds.
    return f"* * * * * */{seconds}"


async def retry_stalled_jobs(app: procrastinate.App, stalled_after_s: float) -> int:
    """Put back in the queue every `doing` task whose worker sent no heartbeat for
    `stalled_after_s` (procrastinate's documented recipe); the number put back."""
    retried = 0
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s)
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
        except queue_errors.ConnectorException:
            # It left `doing` since it was read (finished, or put back by another sweep).
            log.info("stalled job already moved on", queue_job_id=job.id, task=job.task_name)
            continue
        retried += 1
        log.warning(
            "stalled job retried",
            queue_job_id=job.id,
            task=job.task_name,
            args=job.task_kwargs,
            attempts=job.attempts,
        )
    return retried


def run_worker(settings: Settings, concurrency: int | None = None) -> None:
    """Run the queue's worker until SIGTERM or SIGINT: `concurrency` import tasks at once
    (default: the setting) and the stalled-job sweep. The first signal stops taking tasks
    and waits for the running ones; a second one ends the process at once (its tasks are
    then stalled, and another worker runs them again).

    Raises RuntimeError when a worker stops on its own (e.g. the database went away), so
    that the process manager restarts it."""
    freeze_start_up_objects()
    asyncio.run(_run_workers(settings, concurrency or settings.queue_worker_concurrency))


async def _run_workers(settings: Settings, concurrency: int) -> None:
    stalled_after_s = settings.queue_stalled_after_s
    units = WorkerUnitsOfWork(settings)
    app = queue_app(
        settings.model_copy(update={"queue_worker_concurrency": concurrency}),
        units_of_work=units,
    )
    common: dict[str, Any] = {
        "install_signal_handlers": False,  # one handler for both workers, below
        "update_heartbeat_interval": heartbeat_interval_s(stalled_after_s),
        "stalled_worker_timeout": stalled_after_s,
        "fetch_job_polling_interval": min(
            MAX_FETCH_POLLING_INTERVAL_S, float(sweep_interval_s(stalled_after_s))
        ),
    }
    try:
        async with app.open_async():
            workers = [
                asyncio.create_task(
                    app.run_worker_async(
                        queues=[IMPORTS_QUEUE], concurrency=concurrency, name="imports", **common
                    )
                ),
                # A slot of its own, so that busy import slots never delay recovery; its
                # finished jobs (one per sweep) are deleted, import tasks are kept.
                asyncio.create_task(
                    app.run_worker_async(
                        queues=[UPKEEP_QUEUE],
                        concurrency=1,
                        name="queue-upkeep",
                        delete_jobs="successful",
                        **common,
                    )
                ),
            ]
            stop = _GracefulStop(workers)
            log.info(
                "queue worker started",
                queues=[IMPORTS_QUEUE, UPKEEP_QUEUE],
                concurrency=concurrency,
                stalled_after_s=stalled_after_s,
            )
            await asyncio.wait(workers, return_when=asyncio.FIRST_COMPLETED)
            stop.now()  # one worker ended: stop the other too
            outcomes = await asyncio.gather(*workers, return_exceptions=True)
    finally:
        units.dispose()
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome
    if not stop.requested:
        raise RuntimeError("the queue worker stopped on its own (see the log above)")
    log.info("queue worker stopped")


class _GracefulStop:
    """On SIGTERM or SIGINT, stop the workers gracefully (running tasks finish first) and
    give the signals back their default action, so that a second one ends the process at
    once (procrastinate's own behaviour)."""

    def __init__(self, workers: list[asyncio.Task[None]]) -> None:
        self._workers = workers
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self.requested = False
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        log.info("stop requested, waiting for running tasks", signal=signal.Signals(signum).name)
        self.requested = True
        self.now()

    def now(self) -> None:
        if self._stopping:
            return  # cancelling a worker twice would abort its running tasks
        self._stopping = True
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._loop.remove_signal_handler(signum)
            signal.signal(signum, signal.SIG_DFL)
        for worker in self._workers:
            worker.cancel()


def configure_worker_logging(level: str) -> None:
    """procrastinate logs through the standard library: its worker lines go to stderr."""
    logging.basicConfig(
        level=logging.getLevelNamesMapping().get(level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# --- schema ----------------------------------------------------------------------------------

_SCHEMA_LOCK = 0x6F7264_7173  # pg_advisory_xact_lock key: one installer at a time


def ensure_queue_schema(database_url: str) -> bool:
    """Install procrastinate's tables and functions in the PostgreSQL database unless they
    are there (its `apply_schema` is not idempotent); True when it installed them. One
    transaction, serialised by an advisory lock, so concurrent `ordersync migrate` runs are
    safe."""
    with psycopg.connect(libpq_conninfo(database_url)) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if row is not None and row[0] is not None:
            return False
        # The SQL procrastinate ships for `procrastinate schema --apply`; with no
        # parameters psycopg sends the whole script as it is.
        conn.execute(SchemaManager.get_schema())
        return True
