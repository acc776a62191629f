#!/usr/bin/env python
"""Where a CSV import's time goes, step by step (issue 11), in one process.

On a throwaway PostgreSQL database holding the test catalog and the orders of
benchmarks/import.py (20 lines per logistic order, every quantity changed by the file), it
stages the file through the upload's own service (`services.imports.submit_import`), then
runs the job's partitions in this process through the worker's own code
(`jobs.imports.run_partition`: on PostgreSQL one chunk is written on a second thread while
the next is read). No HTTP and no queue: what is left is the job's own work.

It prints the upload's and the job's rows per second, and how long each step took in all,
per row, as measured by a timer around each call (the timers cost about half a microsecond
a call; steps on the writing thread overlap those on the job's thread, so the shares do not
add up to the job's time), split into the calling thread's CPU time and its waiting (for
the database, or for the interpreter lock while the other thread runs Python), and the CPU
time the job took, per row, in this process (its Python, both threads: they share one
interpreter lock) and in PostgreSQL's processes (when the database runs on this machine;
Linux's schedstat). The end-to-end figures are benchmarks/import.py's.

Run:
    .venv/bin/python benchmarks/import_steps.py
    .venv/bin/python benchmarks/import_steps.py --rows 200000 --chunk-rows 2000
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    add_database_options,
    postgres_cpu_seconds,
    print_machine,
    print_table,
    quiet_logging,
    throwaway_database,
)
from tests import bulk_orders
from tests.bundle import KEY_OPS, catalog_bundle

from ordersync.adapters.db import import_repository
from ordersync.bootstrap import unit_of_work_factory
from ordersync.domain.imports import DEFAULT_CHUNK_ROWS
from ordersync.jobs import imports as jobs
from ordersync.rules import import_rows
from ordersync.services import import_chunks
from ordersync.services import imports as upload
from ordersync.services.access import AccessHeaders, resolve_caller
from ordersync.services.data_bundle import load_bundle
from ordersync.settings import Settings

LINES_PER_ORDER = 20
PARTITIONS = 4


class Steps:
    """Timers around named functions: total seconds, the calling thread's CPU seconds, and
    calls per step."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def time(self, owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.cpu[label] += time.thread_time() - cpu
                self.calls[label] += 1

        setattr(owner, name, timed)


def timed_steps() -> Steps:
    steps = Steps()
    repository = import_repository.ImportRepository
    for owner, name, label in (
        (upload, "_staged", "upload: each row's order, line and partition"),
        (repository, "mark_repeated_lines", "upload: the same line twice (F-E-003)"),
        (repository, "next_rows", "job: read the next staged rows"),
        (import_rows.RowParser, "parse", "job: parse the rows"),
        (repository, "lock_orders", "job: lock and load the chunk's orders"),
        (import_chunks, "_lookups", "job: the chunk's look-ups (offers, external ids)"),
        (import_chunks, "apply_row", "job: apply the rows"),
        (import_chunks, "_row_state", "job: each row's before and after"),
        (import_chunks, "_row_changes", "job: each row's history changes"),
        (jobs, "apply_chunk", "job: a chunk read and applied (all of the above)"),
        (repository, "write_orders", "writer: lines, logistic orders, orders"),
        (repository, "add_history", "writer: the history entries (COPY)"),
        (repository, "record_chunk", "writer: checkpoint, counts, refused rows' results"),
        (jobs, "_write", "writer: a chunk written and committed (all of the above)"),
    ):
        steps.time(owner, name, label)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    add_database_options(parser)
    args = parser.parse_args()
    if args.rows % LINES_PER_ORDER:
        parser.error(f"--rows must be a multiple of {LINES_PER_ORDER}")
    quiet_logging()
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        factory, engine = unit_of_work_factory(Settings(database_url=url, log_level="WARNING"))
        try:
            load_bundle(factory(), catalog_bundle())
            bulk_orders.create_orders(engine, args.rows // LINES_PER_ORDER, LINES_PER_ORDER)
            with tempfile.TemporaryDirectory(prefix="ordersync-import-steps-") as tmp:
                path = Path(tmp) / "import.csv"
                bulk_orders.write_changed_file(engine, path, 1, args.rows)
                operator = resolve_caller(factory(), AccessHeaders("OPERATOR", KEY_OPS))
                steps = timed_steps()
                started = time.perf_counter()
                with path.open("rb") as data:
                    job = upload.submit_import(
                        factory,
                        lambda job_id, partitions: None,  # run below, in this process
                        operator,
                        data,
                        file_name=path.name,
                        dry_run=False,
                        partitions=PARTITIONS,
                    )
                staged = time.perf_counter()
                cpu_before = time.process_time(), postgres_cpu_seconds()
                for partition in range(PARTITIONS):
                    jobs.run_partition(factory, job.id, partition, args.chunk_rows)
                done = time.perf_counter()
                cpu_after = time.process_time(), postgres_cpu_seconds()
            with factory() as uow:
                finished = uow.imports.job(job.id)
        finally:
            engine.dispose()
    assert finished is not None
    upload_s, job_s = staged - started, done - staged
    print(
        f"\n{args.rows:,} rows, chunks of {args.chunk_rows:,}: upload {upload_s:.2f} s "
        f"({args.rows / upload_s:,.0f} rows/s), job {job_s:.2f} s ({args.rows / job_s:,.0f} "
        f"rows/s), {finished.status.value} ({finished.succeeded:,} ok, {finished.failed:,} "
        "failed)"
    )
    python_cpu, database_cpu = (
        None if after is None or before is None else after - before
        for before, after in zip(cpu_before, cpu_after, strict=True)
    )
    if python_cpu is not None and database_cpu is not None:
        # The job's threads share one interpreter lock: its Python runs on one CPU at a time.
        print(
            f"job CPU: this process (Python, both threads) {1e6 * python_cpu / args.rows:.0f} "
            f"µs a row, PostgreSQL {1e6 * database_cpu / args.rows:.0f} µs a row"
        )
    print()
    # A step's wait is its time less its thread's CPU time: for the database, or for the
    # interpreter lock while the other thread runs Python. When the job's thread and the
    # writer's are both near the job's time, neither can go faster without the other.
    print_table(
        ["step", "calls", "s", "µs per row", "CPU µs per row", "waiting µs per row"],
        [
            [
                label,
                steps.calls[label],
                seconds,
                round(1e6 * seconds / args.rows, 1),
                round(1e6 * steps.cpu[label] / args.rows, 1),
                round(1e6 * (seconds - steps.cpu[label]) / args.rows, 1),
            ]
            for label, seconds in steps.seconds.items()
        ],
    )


if __name__ == "__main__":
    main()
