#!/usr/bin/env python
"""Per-request cost of ordersync against a floor of its own, same run, same database (issue 12).

On a throwaway PostgreSQL database holding the test catalog (tests/bundle.py) and orders
of ACC-1 with 5 lines each (created through ordersync's API), it starts two real server
processes side by side and calls both over loopback HTTP:

- ordersync: `ordersync serve --workers N` (ORDERSYNC_LOG_LEVEL=WARNING);
- the floor: benchmarks/floor_app.py, a bare FastAPI app (no ordersync code) served by
  uvicorn (httptools, access log off) with the same number of workers, doing the reads
  ordersync needs at most (the caller by key digest with its accounts, the order scoped to
  them, its logistic orders, their lines: four queries) and answering every column as JSON;
  its update of a line does the same reads plus one UPDATE.

Cases:

1. one client, sequential, 1 worker each: GET of the order, ordersync's
   GET /v1/shop/commercial-orders/{ref} against the floor's GET /floor/orders/{ref};
   p50/p99 and the ratio of the p50s (target <= 1.5x);
2. one client, 1 worker each: update of ONE line, ordersync's
   PUT /v2/shop/commercial-orders/{ref}/lines against the floor's PUT, the quantity
   alternating between two values so every call changes the line (each server on an order
   of its own, so neither sees the other's writes); target p50 ratio <= 2x;
3. 20 concurrent clients (threads, each its own keep-alive httpx.Client), 2 workers each:
   GET of the order for ~10 s per server; req/s, and ordersync's share of the floor's
   (target >= 60 %).

The sequential cases interleave the two servers in blocks (alternating which goes first),
and the concurrent case in rounds, so drift in the machine's load hits both. A case that
misses its target prints MISS; the script never fails on a figure. The client runs on the
same machine as the servers and PostgreSQL: mind the load average printed in the header.

Run:
    .venv/bin/python benchmarks/api.py
    .venv/bin/python benchmarks/api.py --iterations 300 --seconds 4 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from _common import (
    LOCAL_SERVER,
    ROOT,
    percentiles,
    print_machine,
    print_table,
    quiet_logging,
    throwaway_database,
    time_calls,
)
from tests.bundle import KEY_1, catalog_bundle
from tests.server_process import ServerDidNotStart, free_port, served

from ordersync.adapters.db.engine import DEFAULTS, make_engine, make_session_factory
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.services.data_bundle import load_bundle

HEADERS = {"dj-client": "ACCOUNT", "dj-api-key": KEY_1}
ORDER_LINES = 5
LINE = "OP-0001"  # the line the update cases change
QUANTITIES = (3, 2)  # lines start at quantity 1: the first update changes them
GET_TARGET = 1.5  # ordersync p50 <= 1.5x the floor's
UPDATE_TARGET = 2.0  # ordersync p50 <= 2x the floor's
SHARE_TARGET = 0.60  # ordersync req/s >= 60 % of the floor's


# --- servers -------------------------------------------------------------------------------


@contextmanager
def served_floor(database_url: str, workers: int, *, ready_within: float = 30) -> Iterator[str]:
    """benchmarks/floor_app.py under uvicorn as a separate process (its supervisor and
    `workers` processes when more than one); the base URL once it answers; stopped on exit."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(ROOT / "benchmarks"),
        "floor_app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--http",
        "httptools",
        "--ws",
        "none",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = {
        **os.environ,
        "FLOOR_DATABASE_URL": database_url,
        "FLOOR_DB_POOL_SIZE": str(DEFAULTS.db_pool_size),
        "FLOOR_DB_MAX_OVERFLOW": str(DEFAULTS.db_max_overflow),
    }
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + ready_within
            while not _answers(base_url):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait(timeout=10)
                    output.seek(0)
                    raise ServerDidNotStart(output.read().decode(errors="replace")[-4000:])
                time.sleep(0.2)
            yield base_url
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/openapi.json", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@dataclass
class Servers:
    ordersync: str
    floor: str


@contextmanager
def both_served(database_url: str, workers: int) -> Iterator[Servers]:
    env = {"ORDERSYNC_DATABASE_URL": database_url, "ORDERSYNC_LOG_LEVEL": "WARNING"}
    with (
        served(env, args=["--workers", str(workers)]) as ordersync,
        served_floor(database_url, workers) as floor,
    ):
        yield Servers(ordersync, floor)


# --- set-up --------------------------------------------------------------------------------


def expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise SystemExit(
            f"{response.request.method} {response.request.url}: expected {status}, "
            f"got {response.status_code}: {response.text[:500]}"
        )


def load_catalog(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        load_bundle(UnitOfWork(make_session_factory(engine)), catalog_bundle())
    finally:
        engine.dispose()


def create_order(client: httpx.Client) -> str:
    """A draft order of ACC-1 with OP-0001..OP-0005 at quantity 1, through ordersync's API."""
    response = client.post("/v2/shop/commercial-orders", json={}, headers=HEADERS)
    expect(response, 201)
    reference: str = response.json()["reference"]
    lines = [{"id": f"OP-{n:04d}", "quantity": 1} for n in range(1, ORDER_LINES + 1)]
    response = client.put(
        f"/v2/shop/commercial-orders/{reference}/lines",
        json={"updateOrderCommercialLines": lines},
        headers=HEADERS,
    )
    expect(response, 200)
    return reference


def line_count(answer: dict[str, Any]) -> int:
    logistic = answer.get("logisticOrders", answer.get("logistic_orders", []))
    return sum(len(lo["lines"]) for lo in logistic)


def check_same_order(ordersync: httpx.Response, floor: httpx.Response) -> None:
    """Once, outside any timing: both answer the order with its 5 lines."""
    expect(ordersync, 200)
    expect(floor, 200)
    counts = (line_count(ordersync.json()), line_count(floor.json()))
    if counts != (ORDER_LINES, ORDER_LINES):
        raise SystemExit(f"expected {ORDER_LINES} lines from both, got {counts}")


# --- sequential cases ----------------------------------------------------------------------


@dataclass
class Target:
    """One server's call, `call(i)` for its i-th call overall (warm-up included)."""

    call: Callable[[int], httpx.Response]
    status: int = 200
    calls: int = 0
    samples: list[float] = field(default_factory=list)

    def run(self, count: int, *, timed: bool) -> None:
        start = self.calls

        def check(response: httpx.Response) -> None:
            expect(response, self.status)

        samples = time_calls(lambda i: self.call(start + i), count, 0, check=check)
        self.calls += count
        if timed:
            self.samples.extend(samples)


def interleaved(targets: Sequence[Target], iterations: int, warmup: int, block: int) -> None:
    """`warmup` untimed calls on each, then `iterations` timed calls on each in blocks of
    `block`, the servers taking turns and alternating which goes first."""
    for target in targets:
        target.run(warmup, timed=False)
    for n in range(math.ceil(iterations / block)):
        count = min(block, iterations - n * block)
        for target in targets if n % 2 == 0 else reversed(targets):
            target.run(count, timed=True)


@dataclass
class Row:
    case: str
    ordersync: str
    floor: str
    ratio: str
    target: str
    result: str

    def cells(self) -> list[object]:
        return [self.case, self.ordersync, self.floor, self.ratio, self.target, self.result]


def latency_row(case: str, ordersync: Target, floor: Target, target: float) -> Row:
    o50, o99 = percentiles(ordersync.samples)
    f50, f99 = percentiles(floor.samples)
    ratio = o50 / f50
    return Row(
        f"{case} (n={len(ordersync.samples)} each)",
        f"{o50:.1f} / {o99:.1f} ms",
        f"{f50:.1f} / {f99:.1f} ms",
        f"{ratio:.2f}x",
        f"p50 <= {target:g}x",
        "PASS" if ratio <= target else "MISS",
    )


def sequential_cases(
    servers: Servers, iterations: int, warmup: int, block: int
) -> tuple[Row, Row, str]:
    """Cases 1 and 2; also the reference of the order the GETs read."""
    with (
        httpx.Client(base_url=servers.ordersync, timeout=60) as ordersync,
        httpx.Client(base_url=servers.floor, timeout=60) as floor,
    ):
        reference = create_order(ordersync)
        ordersync_written = create_order(ordersync)
        floor_written = create_order(ordersync)
        ordersync_path = f"/v1/shop/commercial-orders/{reference}"
        floor_path = f"/floor/orders/{reference}"
        check_same_order(
            ordersync.get(ordersync_path, headers=HEADERS), floor.get(floor_path, headers=HEADERS)
        )

        gets = [
            Target(lambda _: ordersync.get(ordersync_path, headers=HEADERS)),
            Target(lambda _: floor.get(floor_path, headers=HEADERS)),
        ]
        interleaved(gets, iterations, warmup, block)
        get_row = latency_row("GET order, 1 client, 1 worker", gets[0], gets[1], GET_TARGET)

        def ordersync_update(i: int) -> httpx.Response:
            return ordersync.put(
                f"/v2/shop/commercial-orders/{ordersync_written}/lines",
                json={"updateOrderCommercialLines": [{"id": LINE, "quantity": QUANTITIES[i % 2]}]},
                headers=HEADERS,
            )

        def floor_update(i: int) -> httpx.Response:
            return floor.put(
                f"/floor/orders/{floor_written}/lines",
                json={"id": LINE, "quantity": QUANTITIES[i % 2]},
                headers=HEADERS,
            )

        updates = [Target(ordersync_update), Target(floor_update)]
        interleaved(updates, iterations, warmup, block)
        update_row = latency_row(
            "update 1 line, 1 client, 1 worker", updates[0], updates[1], UPDATE_TARGET
        )
    return get_row, update_row, reference


# --- concurrent case -----------------------------------------------------------------------


@dataclass
class Load:
    completed: int = 0
    elapsed_s: float = 0.0
    samples: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed_s


def hammer(base_url: str, path: str, clients: int, seconds: float) -> Load:
    """`clients` threads, each with its own keep-alive client (its connection opened before
    the clock starts), calling GET `path` back to back for `seconds`."""
    ready = threading.Barrier(clients + 1)
    done: list[tuple[int, list[float]]] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = 0.0

    def client_thread() -> None:
        samples: list[float] = []
        with httpx.Client(base_url=base_url, timeout=60) as client:
            try:
                expect(client.get(path, headers=HEADERS), 200)
            except (SystemExit, httpx.HTTPError) as exc:
                with lock:
                    failures.append(str(exc))
            ready.wait()
            try:
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    response = client.get(path, headers=HEADERS)
                    samples.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{response.status_code}: {response.text[:200]}")
            except (SystemExit, httpx.HTTPError) as exc:
                with lock:
                    failures.append(str(exc))
        with lock:
            done.append((len(samples), samples))

    threads = [threading.Thread(target=client_thread, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.perf_counter() + 3600  # until the barrier sets the real one
    ready.wait()
    started = time.perf_counter()
    deadline = started + seconds
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{base_url}{path}: {len(failures)} failed calls, e.g. {failures[0]}")
    load = Load(sum(n for n, _ in done), elapsed)
    for _, samples in done:
        load.samples.extend(samples)
    return load


def concurrent_case(
    servers: Servers, reference: str, clients: int, workers: int, seconds: float, rounds: int
) -> tuple[Row, str]:
    """Case 3: each server in turn for seconds / rounds, `rounds` times, after a 1 s warm-up."""
    paths = {
        "ordersync": (servers.ordersync, f"/v1/shop/commercial-orders/{reference}"),
        "floor": (servers.floor, f"/floor/orders/{reference}"),
    }
    totals = {name: Load() for name in paths}
    for base_url, path in paths.values():
        hammer(base_url, path, clients, 1.0)
    order = list(paths)
    for n in range(rounds):
        for name in order if n % 2 == 0 else reversed(order):
            base_url, path = paths[name]
            load = hammer(base_url, path, clients, seconds / rounds)
            totals[name].completed += load.completed
            totals[name].elapsed_s += load.elapsed_s
            totals[name].samples.extend(load.samples)
    ordersync, floor = totals["ordersync"], totals["floor"]
    share = ordersync.rate / floor.rate
    row = Row(
        f"GET order, {clients} clients, {workers} workers (~{seconds:g} s each)",
        f"{ordersync.rate:.0f} req/s",
        f"{floor.rate:.0f} req/s",
        f"{share:.0%}",
        f">= {SHARE_TARGET:.0%}",
        "PASS" if share >= SHARE_TARGET else "MISS",
    )
    o50, o99 = percentiles(ordersync.samples)
    f50, f99 = percentiles(floor.samples)
    detail = (
        f"Concurrent case: {ordersync.completed:,} ordersync calls in {ordersync.elapsed_s:.1f} s "
        f"(latency p50/p99 {o50:.0f} / {o99:.0f} ms), {floor.completed:,} floor calls in "
        f"{floor.elapsed_s:.1f} s ({f50:.0f} / {f99:.0f} ms), in {rounds} alternating rounds"
    )
    return row, detail


# --- main ----------------------------------------------------------------------------------


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--iterations", type=int, default=1000, help="Timed calls per server, cases 1 and 2"
    )
    parser.add_argument(
        "--warmup", type=int, default=100, help="Untimed calls per server first, cases 1 and 2"
    )
    parser.add_argument(
        "--block", type=int, default=100, help="Calls per turn when interleaving the servers"
    )
    parser.add_argument("--clients", type=int, default=20, help="Concurrent clients, case 3")
    parser.add_argument(
        "--workers", type=int, default=2, help="Server processes of each server, case 3"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="Seconds of load per server, case 3"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="Alternating rounds the seconds are split into"
    )
    parser.add_argument(
        "--database-url",
        default=LOCAL_SERVER,
        help="PostgreSQL server to create the throwaway database on (any database of it; "
        f"default {LOCAL_SERVER})",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="Leave the throwaway database in place at the end (its URL is printed)",
    )
    args = parser.parse_args()

    quiet_logging()
    started = time.perf_counter()
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        print(f"Load:       load average {load_average()} at the start")
        print(
            f"Servers:    ordersync serve (ORDERSYNC_LOG_LEVEL=WARNING) and "
            f"benchmarks/floor_app.py (uvicorn, httptools, no access log), pools of "
            f"{DEFAULTS.db_pool_size}+{DEFAULTS.db_max_overflow} per process; the client on "
            f"the same machine"
        )
        print(
            f"Data:       the test catalog; orders of ACC-1 with {ORDER_LINES} lines; the update "
            f"cases change {LINE}'s quantity ({QUANTITIES[0]} <-> {QUANTITIES[1]})"
        )
        load_catalog(url)
        with both_served(url, workers=1) as servers:
            get_row, update_row, reference = sequential_cases(
                servers, args.iterations, args.warmup, args.block
            )
        with both_served(url, workers=args.workers) as servers:
            concurrent_row, detail = concurrent_case(
                servers, reference, args.clients, args.workers, args.seconds, args.rounds
            )
    print()
    print_table(
        ["case", "ordersync p50/p99", "floor p50/p99", "ratio", "target", "result"],
        [row.cells() for row in (get_row, update_row, concurrent_row)],
    )
    print()
    print(detail)
    print(f"Load average at the end: {load_average()}")
    print(f"Total run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
