#!/usr/bin/env python
"""Two or more server configurations compared on the same calls, interleaved (issue 12).

On this shared machine two whole benchmark runs made minutes apart differ by up to 30 %, so
a change worth 5 to 10 % cannot be judged by running `benchmarks/sync.py` before and after it.
This script starts one real `ordersync serve` process per variant, all on one throwaway
PostgreSQL database holding the test catalog, gives each a 1,000-line order of its own, and
then, call after call, reloads the prices of those orders' offers (a data bundle, outside
the timing, so every line is repriced) and synchronises each variant's order once, in an
order that alternates. Every variant sees the same machine in the same seconds; it prints
each one's p50, p90 and p99, the median CPU time its server spent on a call (all its
threads, from Linux's /proc/<pid>/task/*/schedstat, with one worker per server), less
disturbed than the wall-clock time by what else the machine is running, and the median CPU
time PostgreSQL's processes spent meanwhile (when the database is on this machine).

A variant is `NAME` or `NAME:VAR=VALUE,VAR=VALUE` (environment of its server). The default
compares CPython's own garbage-collector threshold with the serving process's
(`ORDERSYNC_GC_YOUNG_THRESHOLD`, docs/decisions.md "Per-request speed").

Run:
    .venv/bin/python benchmarks/ab_sync.py
    .venv/bin/python benchmarks/ab_sync.py --calls 80 --workers 2 \
        --variant on --variant off:ORDERSYNC_HISTORY_ENABLED=false
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack

import httpx
from _common import (
    add_database_options,
    cpu_seconds,
    percentile,
    postgres_cpu_seconds,
    print_machine,
    print_table,
    quiet_logging,
    running_app,
    throwaway_database,
)
from sync import PRICES, Repricer, expect, order_with_lines, sync
from tests.bundle import catalog_bundle
from tests.server_process import served_process

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.services.data_bundle import load_bundle

DEFAULT_VARIANTS = ("cpython-700:ORDERSYNC_GC_YOUNG_THRESHOLD=700", "ordersync-default")


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, assignments = text.partition(":")
    env = {}
    for assignment in filter(None, assignments.split(",")):
        key, sep, value = assignment.partition("=")
        if not sep:
            raise SystemExit(f"--variant {text!r}: expected NAME:VAR=VALUE,VAR=VALUE")
        env[key] = value
    return name, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", help="NAME[:VAR=VALUE,...] (repeat)")
    parser.add_argument("--lines", type=int, default=1000, help="Lines of each order")
    parser.add_argument("--calls", type=int, default=60, help="Timed calls per variant")
    parser.add_argument("--warmup", type=int, default=10, help="Untimed calls first")
    parser.add_argument("--workers", type=int, default=1, help="Processes per server")
    add_database_options(parser)
    args = parser.parse_args()
    variants = dict(parse_variant(v) for v in (args.variant or DEFAULT_VARIANTS))

    quiet_logging()
    started = time.perf_counter()
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        # The in-process app only loads the catalog and reprices; the servers answer.
        with running_app(url, "in-process") as (app, _), ExitStack() as servers:
            load_bundle(UnitOfWork(app.state.session_factory), catalog_bundle())
            clients: dict[str, httpx.Client] = {}
            pids: dict[str, int] = {}
            for name, env in variants.items():
                server = servers.enter_context(
                    served_process(
                        {"ORDERSYNC_DATABASE_URL": url, "ORDERSYNC_LOG_LEVEL": "WARNING", **env},
                        args=["--workers", str(args.workers)],
                    )
                )
                pids[name] = server.pid
                clients[name] = servers.enter_context(
                    httpx.Client(base_url=server.base_url, timeout=60)
                )
            orders = {name: order_with_lines(c, args.lines) for name, c in clients.items()}
            repricer = Repricer(app)
            samples: dict[str, list[float]] = {name: [] for name in clients}
            cpu: dict[str, list[float]] = {name: [] for name in clients}
            database_cpu: dict[str, list[float]] = {name: [] for name in clients}
            names = list(clients)
            for i in range(args.warmup + args.calls):
                repricer.set_price(args.lines, PRICES[i % 2])
                for name in names if i % 2 else reversed(names):
                    cpu_before, db_before = cpu_seconds(pids[name]), postgres_cpu_seconds()
                    began = time.perf_counter()
                    response = sync(clients[name], orders[name])
                    elapsed = (time.perf_counter() - began) * 1000
                    cpu_after, db_after = cpu_seconds(pids[name]), postgres_cpu_seconds()
                    expect(response, 200)
                    if i >= args.warmup:
                        samples[name].append(elapsed)
                        if cpu_before is not None and cpu_after is not None:
                            cpu[name].append((cpu_after - cpu_before) * 1000)
                        if db_before is not None and db_after is not None:
                            database_cpu[name].append((db_after - db_before) * 1000)
    print()
    print(
        f"{args.lines}-line synchronise, every line repriced, {args.calls} calls per variant "
        f"interleaved, {args.workers} worker(s) per server:"
    )
    rows = [
        [
            name,
            " ".join(f"{k}={v}" for k, v in variants[name].items()) or "-",
            percentile(values, 50),
            percentile(values, 90),
            percentile(values, 99),
            percentile(cpu[name], 50) if cpu[name] and args.workers == 1 else "-",
            percentile(database_cpu[name], 50) if database_cpu[name] else "-",
        ]
        for name, values in samples.items()
    ]
    print_table(
        ["variant", "environment", "p50 ms", "p90 ms", "p99 ms", "CPU p50 ms", "PG CPU p50 ms"],
        rows,
    )
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
