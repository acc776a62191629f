#!/usr/bin/env python
"""Reading an order for writing: its logistic orders and lines joined, or apart (issue 12).

On a throwaway PostgreSQL database holding the test catalog, it makes orders of 5, 50, 200
and 1,000 lines and reads each one the way a write does (`OrderRepository.get(...,
for_update=True)`: the order locked, then its logistic orders and lines), alternately with
the two ways `adapters/db/order_rows.py` knows: one joined statement, in which each line
brings its logistic order's columns again, and two statements, logistic orders then lines.
It prints the p50 and p90 of each and which one `JOINED_UP_TO` picks for that size.

Run:
    .venv/bin/python benchmarks/order_read.py
    .venv/bin/python benchmarks/order_read.py --reads 100
"""

from __future__ import annotations

import argparse
import time

from _common import (
    add_database_options,
    percentile,
    print_machine,
    print_table,
    quiet_logging,
    running_app,
    throwaway_database,
)
from sync import order_with_lines
from tests.bundle import catalog_bundle

from ordersync.adapters.db import order_rows
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.services.data_bundle import load_bundle

SIZES = (5, 50, 200, 1000)
WAYS = {"joined": 10**9, "apart": 0}  # JOINED_UP_TO for each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=60, help="Timed reads per size and way")
    add_database_options(parser)
    args = parser.parse_args()

    quiet_logging()
    chosen = order_rows.JOINED_UP_TO
    rows: list[list[object]] = []
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        with running_app(url, "in-process") as (app, client):
            load_bundle(UnitOfWork(app.state.session_factory), catalog_bundle())
            for size in SIZES:
                reference = order_with_lines(client, size)
                samples: dict[str, list[float]] = {way: [] for way in WAYS}
                for i in range(args.reads + 5):
                    for way in WAYS if i % 2 else reversed(WAYS):
                        order_rows.JOINED_UP_TO = WAYS[way]
                        with UnitOfWork(app.state.session_factory) as uow:
                            began = time.perf_counter()
                            order = uow.orders.get(reference, for_update=True)
                            elapsed = (time.perf_counter() - began) * 1000
                        assert order is not None and len(order.lines) == size
                        if i >= 5:
                            samples[way].append(elapsed)
                picked = "joined" if size <= chosen else "apart"
                for way, values in samples.items():
                    rows.append(
                        [
                            size,
                            way,
                            percentile(values, 50),
                            percentile(values, 90),
                            "<- JOINED_UP_TO picks it" if way == picked else "",
                        ]
                    )
    order_rows.JOINED_UP_TO = chosen
    print()
    print(f"Reading an order for writing, {args.reads} reads per size and way, alternating:")
    print_table(["lines", "way", "p50 ms", "p90 ms", ""], rows)


if __name__ == "__main__":
    main()
