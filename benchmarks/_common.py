"""What the benchmark scripts share: a throwaway PostgreSQL database, the app served as
`ordersync serve` serves it (or called in-process), percentiles and a plain-text table.

Importing this module puts the repository root on `sys.path`, so a script run as
`.venv/bin/python benchmarks/<name>.py` can import the test catalog from `tests/`.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Starlette's TestClient warns once that it wants httpx2; the warning says nothing about
# the figures, so it stays out of the output.
warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient", module="fastapi")

import httpx  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from tests.server_process import served  # noqa: E402

from ordersync.adapters.db.migrate import upgrade  # noqa: E402
from ordersync.api.app import create_app  # noqa: E402
from ordersync.log_config import configure_logging  # noqa: E402
from ordersync.settings import Settings  # noqa: E402

T = TypeVar("T")

LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=LOCAL_SERVER,
        help="PostgreSQL server to create the throwaway database on (any database of it; "
        f"default {LOCAL_SERVER})",
    )
    parser.add_argument(
        "--transport",
        choices=("server", "in-process"),
        default="server",
        help="server: the real `ordersync serve` process (uvicorn) called over loopback HTTP, "
        "as a client sees it (default); in-process: the app called through TestClient",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="Leave the throwaway database in place at the end (its URL is printed)",
    )


def quiet_logging() -> None:
    """One access-log line per request would drown the tables: warnings and errors only."""
    configure_logging(json=False, level="WARNING")


@contextmanager
def throwaway_database(server_url: str, *, keep: bool = False) -> Iterator[str]:
    """Create `ordersync_bench_<random>` on the server, migrate it, yield its URL, and drop
    it at the end (WITH (FORCE): the app's pool may still hold connections)."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"ordersync_bench_{uuid.uuid4().hex[:10]}"
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            upgrade(url)
            yield url
        finally:
            if keep:
                print(f"Kept database {make_url(url).render_as_string(hide_password=True)}")
            else:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def running_app(
    database_url: str, transport: str = "server", history: bool = True
) -> Iterator[tuple[FastAPI, httpx.Client]]:
    """An HTTP client of the app, and an in-process app on the same database for the
    script's own set-up (its session factory and engine).

    transport "server" starts `ordersync serve` as a separate process, so the client and the
    server do not share an interpreter (nor its GIL), as in production; "in-process" calls
    the app through TestClient. Either way routing, validation, auth, serialisation and
    middleware run on every call. `history`: whether writes record order history."""
    app = create_app(
        Settings(database_url=database_url, log_level="WARNING", history_enabled=history)
    )
    try:
        if transport == "in-process":
            with TestClient(app) as client:
                yield app, client
        else:
            with (
                served(
                    {
                        "ORDERSYNC_DATABASE_URL": database_url,
                        "ORDERSYNC_LOG_LEVEL": "WARNING",
                        "ORDERSYNC_HISTORY_ENABLED": "true" if history else "false",
                    }
                ) as base_url,
                httpx.Client(base_url=base_url, timeout=60) as client,
            ):
                yield app, client
    finally:
        app.state.engine.dispose()


def time_calls(
    call: Callable[[int], T],
    iterations: int,
    warmup: int,
    *,
    before: Callable[[int], None] | None = None,
    check: Callable[[T], None] | None = None,
) -> list[float]:
    """Milliseconds of `call(i)` for each timed iteration, after `warmup` untimed ones.
    `before(i)` (preparing the call) and `check(answer)` run outside the timing.

    This process's garbage collector is off while a call is timed, as `timeit` does: a
    full collection here (the script also holds an in-process app and its caches) took up
    to 100 ms, and would have been counted as the server's. It runs between calls."""
    samples: list[float] = []
    for i in range(warmup + iterations):
        if before is not None:
            before(i)
        collecting = gc.isenabled()
        gc.disable()
        try:
            started = time.perf_counter()
            answer = call(i)
            elapsed = (time.perf_counter() - started) * 1000
        finally:
            if collecting:
                gc.enable()
        if check is not None:
            check(answer)
        if i >= warmup:
            samples.append(elapsed)
    return samples


def cpu_seconds(pid: int) -> float | None:
    """The CPU time of every live thread of the process so far (None where Linux's
    schedstat is not there). A thread that ends between two readings takes its time with
    it: for another process's calls, whose threads outlive them (a server's pool)."""
    try:
        return (
            sum(
                int((task / "schedstat").read_text().split()[0])
                for task in Path(f"/proc/{pid}/task").iterdir()
            )
            / 1e9
        )
    except (OSError, ValueError, IndexError):
        return None


def postgres_cpu_seconds() -> float | None:
    """The CPU time of every process of this machine named `postgres*` so far (None
    without /proc): the database's work during a call, when it runs here."""
    total = 0
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if not (entry / "comm").read_text().startswith("postgres"):
                    continue
                total += int((entry / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    except OSError:
        return None
    return total / 1e9


def percentile(samples_ms: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least p% of the samples at or
    below it (p99 of 100 samples is the second slowest)."""
    ordered = sorted(samples_ms)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def percentiles(samples_ms: Sequence[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    return percentile(samples_ms, 50), percentile(samples_ms, 99)


def verdict(p99_ms: float, target_ms: float | None) -> str:
    if target_ms is None:
        return "-"
    return "PASS" if p99_ms <= target_ms else "MISS"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Left-aligned text columns, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print(line(row))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for row in cpuinfo:
                if row.startswith("model name"):
                    return row.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def print_machine(database_url: str) -> None:
    """Where the figures come from: they mean little without it."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            server = conn.execute(text("SHOW server_version")).scalar_one()
            buffers = conn.execute(text("SHOW shared_buffers")).scalar_one()
    finally:
        engine.dispose()
    url = make_url(database_url)
    print(f"Machine:    {platform.platform()}, {os.cpu_count()} CPUs ({_cpu_model()})")
    print(f"Python:     {platform.python_implementation()} {platform.python_version()}")
    print(
        f"PostgreSQL: {server} at {url.host}:{url.port or 5432} "
        f"(shared_buffers {buffers}), database {url.database}"
    )
