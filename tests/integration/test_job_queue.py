"""The job queue: procrastinate on PostgreSQL (deferring from sync code, a worker, a worker
killed mid-task), the in-process dispatcher on SQLite. The job code is a fake here: these
tests prove how partitions reach it, not what it does."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from ordersync.adapters.db.migrate import upgrade
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.bootstrap import dispatcher_for
from ordersync.jobs import imports
from ordersync.jobs.dispatch import InProcessDispatcher, ProcrastinateDispatcher
from ordersync.jobs.queue import (
    IMPORT_TASK,
    IMPORTS_QUEUE,
    WorkerUnitsOfWork,
    ensure_queue_schema,
    is_queue_database,
    queue_app,
)
from ordersync.settings import Settings

REPO = Path(__file__).resolve().parents[2]
FAKE_JOB_LOG = "ORDERSYNC_TEST_FAKE_JOB_LOG"  # read by the fake job of a worker subprocess
STALLED_AFTER_S = 3


@pytest.fixture
def queue_url(database_url: str) -> Iterator[str]:
    """The PostgreSQL test database with an empty queue."""
    if not is_queue_database(database_url):
        pytest.skip("the procrastinate queue runs on PostgreSQL; on SQLite jobs run in-process")
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE procrastinate_jobs, procrastinate_workers, "
                "procrastinate_periodic_defers, procrastinate_events CASCADE"
            )
        )
    engine.dispose()
    yield database_url


@pytest.fixture
def queue_db(queue_url: str) -> Iterator[Engine]:
    engine = create_engine(queue_url)
    yield engine
    engine.dispose()


def queued_tasks(engine: Engine, task: str = IMPORT_TASK) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, queue_name, args, status::text AS status, attempts, scheduled_at"
                " FROM procrastinate_jobs WHERE task_name = :task ORDER BY id"
            ),
            {"task": task},
        )
        return [dict(row._mapping) for row in rows]


def defer_import(url: str, job_id: str, partitions: int) -> None:
    dispatcher = ProcrastinateDispatcher(
        queue_app(Settings(database_url=url), deferring_only=True)
    )
    try:
        dispatcher.enqueue_import(job_id, partitions)
    finally:
        dispatcher.close()


def run_worker_until_idle(url: str) -> None:
    """A worker in this process, on the imports queue, until no task is left to start."""
    settings = Settings(database_url=url)
    units = WorkerUnitsOfWork(settings)
    app = queue_app(settings, units_of_work=units)

    async def work() -> None:
        async with app.open_async():
            await app.run_worker_async(
                queues=[IMPORTS_QUEUE], wait=False, install_signal_handlers=False
            )

    try:
        asyncio.run(work())
    finally:
        units.dispose()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


# --- PostgreSQL: procrastinate ------------------------------------------------------------


def test_migrate_installs_the_queue_schema_once(queue_url: str) -> None:
    # The fixture's database went through `upgrade`, which installed it.
    assert ensure_queue_schema(queue_url) is False
    upgrade(queue_url)  # again: nothing to do, no error


def test_deferring_from_sync_code_queues_one_task_per_partition(
    queue_url: str, queue_db: Engine
) -> None:
    defer_import(queue_url, "job-a", 3)

    tasks = queued_tasks(queue_db)
    assert [(t["queue_name"], t["args"], t["status"]) for t in tasks] == [
        (IMPORTS_QUEUE, {"job_id": "job-a", "partition": p}, "todo") for p in range(3)
    ]


def test_a_worker_runs_each_partition_in_a_thread_of_its_own(
    queue_url: str, queue_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple[str, int, bool]] = []

    def fake_run_partition(
        uow_factory: Any, job_id: str, partition: int, chunk_rows: int = 0
    ) -> None:
        assert isinstance(uow_factory(), UnitOfWork)
        ran.append((job_id, partition, threading.current_thread() is threading.main_thread()))

    monkeypatch.setattr(imports, "run_partition", fake_run_partition)
    defer_import(queue_url, "job-b", 2)

    run_worker_until_idle(queue_url)

    assert sorted(ran) == [("job-b", 0, False), ("job-b", 1, False)]
    assert [t["status"] for t in queued_tasks(queue_db)] == ["succeeded", "succeeded"]


def test_a_failed_partition_is_queued_again_with_a_delay(
    queue_url: str, queue_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_run_partition(
        uow_factory: Any, job_id: str, partition: int, chunk_rows: int = 0
    ) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(imports, "run_partition", failing_run_partition)
    defer_import(queue_url, "job-c", 1)

    run_worker_until_idle(queue_url)

    [task] = queued_tasks(queue_db)
    assert (task["status"], task["attempts"]) == ("todo", 1)
    with queue_db.connect() as conn:
        delay = conn.execute(
            text("SELECT extract(epoch FROM :at - now())"), {"at": task["scheduled_at"]}
        )
        assert delay.scalar_one() > 0  # retried later (2 s), not at once


def test_a_task_whose_worker_was_killed_is_run_again_by_another_worker(
    queue_url: str, queue_db: Engine, tmp_path: Path
) -> None:
    job_log = tmp_path / "runs.log"
    defer_import(queue_url, "job-k", 1)
    env = {
        **os.environ,
        "ORDERSYNC_DATABASE_URL": queue_url,
        "ORDERSYNC_QUEUE_STALLED_AFTER_S": str(STALLED_AFTER_S),
        FAKE_JOB_LOG: str(job_log),
    }

    def start_worker(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import worker_with_fake_job as w; w()"],
            cwd=REPO,
            env=env,
            stdout=(tmp_path / f"{name}.out").open("wb"),
            stderr=subprocess.STDOUT,
        )

    def runs() -> list[str]:
        return job_log.read_text().splitlines() if job_log.exists() else []

    first = start_worker("first")
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_for(lambda: len(runs()) == 1, 20, "the first worker to start the task")
        assert [t["status"] for t in queued_tasks(queue_db)] == ["doing"]
        first.kill()  # SIGKILL: no chance to say anything
        first.wait(10)

        second = start_worker("second")
        wait_for(
            lambda: [t["status"] for t in queued_tasks(queue_db)] == ["succeeded"],
            25,
            "the second worker to run the stalled task",
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(10) == 0  # a graceful stop
    except BaseException:
        for name in ("first", "second"):
            out = tmp_path / f"{name}.out"
            if out.exists():
                print(f"--- {name} worker ---\n{out.read_text()[-5000:]}")
        raise
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)

    assert [line.split()[1:] for line in runs()] == [["job-k", "0"], ["job-k", "0"]]
    assert runs()[0].split()[0] == str(first.pid)
    assert second is not None and runs()[1].split()[0] == str(second.pid)


def worker_with_fake_job() -> None:
    """A worker subprocess: `ordersync worker`, its job code replaced by one that hangs on
    its first run (until the process is killed) and returns on the next."""
    from ordersync import cli

    def fake_run_partition(
        uow_factory: Any, job_id: str, partition: int, chunk_rows: int = 0
    ) -> None:
        job_log = Path(os.environ[FAKE_JOB_LOG])
        first_run = not job_log.exists()
        with job_log.open("a") as runs:
            runs.write(f"{os.getpid()} {job_id} {partition}\n")
        while first_run:
            time.sleep(0.05)

    imports.run_partition = fake_run_partition  # type: ignore[assignment]
    cli.app(["worker"])


def test_the_worker_command_on_sqlite_says_jobs_run_in_the_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ordersync import cli

    sqlite = Settings(database_url=f"sqlite:///{tmp_path / 'ordersync.db'}")
    monkeypatch.setattr(cli, "get_settings", lambda: sqlite)

    result = CliRunner().invoke(cli.app, ["worker"])

    assert result.exit_code == 2
    assert "ordersync serve" in result.output


def test_the_dispatcher_is_the_queue_on_postgresql_and_threads_on_sqlite() -> None:
    def no_uow() -> UnitOfWork:
        raise AssertionError("not used")

    postgresql = dispatcher_for(Settings(database_url="postgresql://u@db.example/x"), no_uow)
    sqlite = dispatcher_for(Settings(database_url="sqlite:///x.db"), no_uow)

    assert isinstance(postgresql, ProcrastinateDispatcher)
    assert isinstance(sqlite, InProcessDispatcher)


# --- SQLite: in the serving process -------------------------------------------------------


def fake_uow_factory() -> UnitOfWork:
    return cast(UnitOfWork, object())


@pytest.fixture
def job_runs(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, int]]:
    """Runs of the (fake) job code per (job, partition); partition 1 of "flaky" fails
    twice, every partition of "broken" always fails."""
    runs: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()

    def fake_run_partition(
        uow_factory: Any, job_id: str, partition: int, chunk_rows: int = 0
    ) -> None:
        assert uow_factory is fake_uow_factory
        with lock:
            runs[job_id, partition] += 1
            attempt = runs[job_id, partition]
        if job_id == "broken" or (job_id == "flaky" and partition == 1 and attempt <= 2):
            raise RuntimeError("the database is locked")

    monkeypatch.setattr(imports, "run_partition", fake_run_partition)
    return runs


def test_the_server_runs_each_partition_and_retries_a_failing_one(
    job_runs: Counter[tuple[str, int]],
) -> None:
    dispatcher = InProcessDispatcher(fake_uow_factory, threads=2, retry_backoff_s=(0.01, 0.01))

    dispatcher.enqueue_import("flaky", 3)
    dispatcher.enqueue_import("broken", 1)
    dispatcher.close(wait=True)

    assert job_runs == {("flaky", 0): 1, ("flaky", 1): 3, ("flaky", 2): 1, ("broken", 0): 3}


def test_the_server_applies_the_configured_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []

    def fake_run_partition(uow_factory: Any, job_id: str, partition: int, chunk_rows: int) -> None:
        sizes.append(chunk_rows)

    monkeypatch.setattr(imports, "run_partition", fake_run_partition)
    settings = Settings(database_url="sqlite://", import_chunk_rows=7)
    dispatcher = dispatcher_for(settings, fake_uow_factory)
    dispatcher.enqueue_import("job", 2)
    dispatcher.close(wait=True)

    assert sizes == [7, 7]


def test_the_server_resumes_unfinished_partitions_once_each(
    job_runs: Counter[tuple[str, int]],
) -> None:
    dispatcher = InProcessDispatcher(fake_uow_factory, retry_backoff_s=())

    dispatcher.resume_unfinished(lambda: [("left", 0), ("left", 2)])
    dispatcher.close(wait=True)
    # A dispatcher used after close starts again (the app's lifespan runs once per client).
    dispatcher.enqueue_import("later", 1)
    dispatcher.close(wait=True)

    assert job_runs == {("left", 0): 1, ("left", 2): 1, ("later", 0): 1}


def test_the_server_starts_even_if_unfinished_partitions_cannot_be_listed(
    job_runs: Counter[tuple[str, int]],
) -> None:
    def unreachable() -> list[tuple[str, int]]:
        raise OSError("unable to open database file")

    dispatcher = InProcessDispatcher(fake_uow_factory)
    dispatcher.resume_unfinished(unreachable)
    dispatcher.close(wait=True)

    assert job_runs == {}


def test_a_partition_queued_or_running_is_not_handed_over_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = threading.Event()
    runs: Counter[tuple[str, int]] = Counter()

    def gated_run_partition(
        uow_factory: Any, job_id: str, partition: int, chunk_rows: int = 0
    ) -> None:
        runs[job_id, partition] += 1
        gate.wait(5)

    monkeypatch.setattr(imports, "run_partition", gated_run_partition)
    dispatcher = InProcessDispatcher(fake_uow_factory, threads=2)

    dispatcher.enqueue_import("job", 3)
    # A start-up resume listing the partitions a request has just queued.
    dispatcher.resume_unfinished(lambda: [("job", 0), ("job", 1), ("job", 2)])
    gate.set()
    dispatcher.close(wait=True)

    assert runs == {("job", 0): 1, ("job", 1): 1, ("job", 2): 1}
