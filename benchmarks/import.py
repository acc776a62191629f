#!/usr/bin/env python
"""CSV import end to end (issue 11): upload start -> job SUCCEEDED, on real processes.

PostgreSQL: a throwaway database, migrated (procrastinate's schema included), loaded with
the test catalog, then 1,000,000 order lines over 50,000 logistic orders (20 lines each)
made with three set-based INSERT … SELECT statements (tests/bulk_orders.py). The file: one
row per line, every quantity changed (Order Reference, Order Line Id, Account External Id,
Supplier External Id, Offer Price External Id, Order Line Quantity, Net Unit Price, Order
Status). It is uploaded with `POST /v1/operator/import-jobs` to the real `ordersync serve`
(one process) and run by one real `ordersync worker` process; the clock runs from the
upload's first byte to the job's SUCCEEDED. Also measured: the worker's peak RSS (VmHWM
from /proc/<pid>/status), the time to COPY the same file into an unlogged table of text
columns and the ratio of the two; then the same with two workers (a new file, every
quantity changed again); then 100,000 rows on SQLite, run by the serving process itself.

Targets: >= 20,000 rows/s with one worker, worker peak RSS <= 512 MiB. The last line is
the one-worker PostgreSQL run, for scripts:
    import: rows=<n> rows_per_s=<r> peak_rss_mib=<m> copy_ratio=<x>

Run:
    .venv/bin/python benchmarks/import.py                 # 1,000,000 rows (~ minutes)
    .venv/bin/python benchmarks/import.py --rows 100000   # a quick check
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import psycopg
from _common import (
    LOCAL_SERVER,
    ROOT,
    print_machine,
    print_table,
    quiet_logging,
    throwaway_database,
)
from tests import bulk_orders
from tests.bundle import KEY_OPS, catalog_bundle
from tests.server_process import served_process

from ordersync.adapters.db.migrate import upgrade
from ordersync.bootstrap import unit_of_work_factory
from ordersync.jobs.queue import libpq_conninfo
from ordersync.services.data_bundle import load_bundle
from ordersync.settings import Settings

LINES_PER_ORDER = 20
TARGET_ROWS_PER_S = 20_000
TARGET_RSS_MIB = 512
OPS = {"dj-client": "OPERATOR", "dj-api-key": KEY_OPS}
JOBS = "/v1/operator/import-jobs"
FINISHED = {"SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED"}
POLL_S = 0.2


@dataclass
class Run:
    label: str
    rows: int
    upload_s: float  # the POST: reading, checking and staging the file
    total_s: float  # upload start -> job finished
    peak_rss_mib: float  # of the process(es) running the job (the largest)
    status: str

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.total_s


# --- processes --------------------------------------------------------------------------


def peak_rss_mib(pid: int) -> float:
    """VmHWM, the peak resident set size the kernel kept for the process."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


@contextmanager
def worker_process(env: dict[str, str], log: IO[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """A real `ordersync worker`, stopped (SIGTERM, then SIGKILL) at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ordersync.cli", "worker"],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def upload_and_wait(
    client: httpx.Client, path: Path, rss_of: Sequence[int], timeout_s: float
) -> tuple[float, float, dict[str, Any], float]:
    """(upload seconds, total seconds, the finished job, peak RSS MiB of `rss_of`)."""
    started = time.perf_counter()
    with path.open("rb") as data:
        response = client.post(
            JOBS,
            files={"file": (path.name, data, "text/csv")},
            data={"type": "INTERNAL_ORDER_UPDATE", "dryRun": "false"},
            headers=OPS,
        )
    uploaded = time.perf_counter() - started
    if response.status_code != 202:
        raise SystemExit(f"upload refused: {response.status_code} {response.text[:500]}")
    job_id = response.json()["jobId"]
    deadline = started + timeout_s
    while True:
        job = client.get(f"{JOBS}/{job_id}", headers=OPS).json()
        if job["status"] in FINISHED:
            break
        if time.perf_counter() > deadline:
            raise SystemExit(f"job {job_id} not finished after {timeout_s:.0f} s: {job}")
        time.sleep(POLL_S)
    total = time.perf_counter() - started
    peak = max((peak_rss_mib(pid) for pid in rss_of), default=0.0)
    return uploaded, total, job, peak


# --- PostgreSQL --------------------------------------------------------------------------


def copy_seconds(database_url: str, path: Path) -> float:
    """COPY the file into an unlogged table of text columns: the floor of any import."""
    columns = bulk_orders.header(path)
    table = "bench_import_copy"
    with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as conn:
        definition = ", ".join(f"c{i} text" for i in range(len(columns)))
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE UNLOGGED TABLE {table} ({definition})")
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - started
        conn.execute(f"DROP TABLE {table}")
    return elapsed


def prepare(database_url: str, rows: int) -> None:
    settings = Settings(database_url=database_url, log_level="WARNING")
    factory, engine = unit_of_work_factory(settings)
    try:
        load_bundle(factory(), catalog_bundle())
        started = time.perf_counter()
        bulk_orders.create_orders(engine, rows // LINES_PER_ORDER, LINES_PER_ORDER)
        print(
            f"Data:       {rows // LINES_PER_ORDER:,} logistic orders x {LINES_PER_ORDER} "
            f"lines = {rows:,} lines, made with INSERT … SELECT in "
            f"{time.perf_counter() - started:.1f} s"
        )
    finally:
        engine.dispose()


def write_file(database_url: str, path: Path, run: int, rows: int) -> None:
    settings = Settings(database_url=database_url, log_level="WARNING")
    _, engine = unit_of_work_factory(settings)
    try:
        written = bulk_orders.write_changed_file(engine, path, run, rows)
    finally:
        engine.dispose()
    assert written == rows, (written, rows)


def postgresql_runs(args: argparse.Namespace, workdir: Path) -> tuple[list[Run], float]:
    """The one-worker and two-worker runs, and the COPY time of the one-worker file."""
    runs: list[Run] = []
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        prepare(url, args.rows)
        env = {
            "ORDERSYNC_DATABASE_URL": url,
            "ORDERSYNC_LOG_LEVEL": "WARNING",
            "ORDERSYNC_IMPORT_MAX_BYTES": str(1 << 31),
        }
        first = workdir / "import-1.csv"
        write_file(url, first, 1, args.rows)
        size_mib = first.stat().st_size / (1 << 20)
        columns = ", ".join(bulk_orders.COLUMNS)
        print(f"File:       {args.rows:,} rows, {size_mib:.1f} MiB ({columns})")
        copy_s = copy_seconds(url, first)
        with (
            served_process(env, args=("--workers", "1")) as server,
            httpx.Client(base_url=server.base_url, timeout=3600) as client,
            (workdir / "workers.log").open("ab") as log,
        ):
            for count, run_number in ((1, 1), (2, 2)):
                path = workdir / f"import-{run_number}.csv"
                if not path.exists():
                    write_file(url, path, run_number, args.rows)
                with ExitStack() as stack:
                    workers = [stack.enter_context(worker_process(env, log)) for _ in range(count)]
                    uploaded, total, job, peak = upload_and_wait(
                        client, path, [w.pid for w in workers], args.timeout
                    )
                runs.append(
                    Run(
                        f"PostgreSQL, {count} worker{'s' if count > 1 else ''}",
                        job["total"],
                        uploaded,
                        total,
                        peak,
                        _status(job),
                    )
                )
    return runs, copy_s


def _status(job: dict[str, Any]) -> str:
    return f"{job['status']} ({job['succeeded']:,} ok, {job['failed']:,} failed)"


# --- SQLite -----------------------------------------------------------------------------


def sqlite_run(rows: int, workdir: Path, timeout: float) -> Run:
    """`ordersync serve` on SQLite runs the job itself (its in-process dispatcher)."""
    url = f"sqlite:///{workdir / 'ordersync.db'}"
    upgrade(url)
    prepare(url, rows)
    path = workdir / "import-sqlite.csv"
    write_file(url, path, 1, rows)
    env = {"ORDERSYNC_DATABASE_URL": url, "ORDERSYNC_LOG_LEVEL": "WARNING"}
    with (
        served_process(env) as server,
        httpx.Client(base_url=server.base_url, timeout=3600) as client,
    ):
        uploaded, total, job, peak = upload_and_wait(client, path, [server.pid], timeout)
    return Run("SQLite, in `ordersync serve`", job["total"], uploaded, total, peak, _status(job))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows on PostgreSQL")
    parser.add_argument("--sqlite-rows", type=int, default=100_000, help="Rows on SQLite")
    parser.add_argument("--database-url", default=LOCAL_SERVER, help="PostgreSQL server")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600, help="Seconds per job at most")
    args = parser.parse_args()
    for name in ("rows", "sqlite_rows"):
        if getattr(args, name) % LINES_PER_ORDER:
            parser.error(f"--{name.replace('_', '-')} must be a multiple of {LINES_PER_ORDER}")

    quiet_logging()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ordersync-import-bench-") as tmp:
        workdir = Path(tmp)
        runs, copy_s = postgresql_runs(args, workdir)
        print(
            "Copy:       the same file COPYed into an unlogged table of text columns in "
            f"{copy_s:.2f} s"
        )
        if args.sqlite_rows:
            runs.append(sqlite_run(args.sqlite_rows, workdir, args.timeout))

    one = runs[0]
    print()
    print_table(
        ["run", "rows", "upload s", "total s", "rows/s", "peak RSS MiB", "job"],
        [
            [r.label, r.rows, r.upload_s, r.total_s, round(r.rows_per_s), r.peak_rss_mib, r.status]
            for r in runs
        ],
    )
    ratio = one.total_s / copy_s
    print(
        f"\nTargets (PostgreSQL, one worker): >= {TARGET_ROWS_PER_S:,} rows/s -> "
        f"{'PASS' if one.rows_per_s >= TARGET_ROWS_PER_S else 'MISS'}; peak RSS <= "
        f"{TARGET_RSS_MIB} MiB -> {'PASS' if one.peak_rss_mib <= TARGET_RSS_MIB else 'MISS'}; "
        f"import / COPY = {ratio:.1f}x"
    )
    print(f"Total run time {time.perf_counter() - started:.0f} s")
    print(
        f"import: rows={one.rows} rows_per_s={one.rows_per_s:.0f} "
        f"peak_rss_mib={one.peak_rss_mib:.0f} copy_ratio={ratio:.1f}"
    )


if __name__ == "__main__":
    main()
