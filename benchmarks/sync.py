#!/usr/bin/env python
"""Synchronise and update-lines latency on PostgreSQL (issue 2).

On a throwaway PostgreSQL database holding the test catalog (tests/bundle.py), through
the whole HTTP stack (by default the real `ordersync serve` process, called over loopback
HTTP; `--transport in-process` calls the app through TestClient), it measures:

- PUT /v1/shop/commercial-orders/{ref}/sync on orders of 10, 200 and 1,000 lines,
  (a) when nothing changed (204), and (b) when every line was repriced: the net price of
  the order's offers alternates between two values, reloaded with `load_bundle` before each
  call and outside the timing, so each call rewrites every line (200, one PRICE_CHANGED
  warning per line);
- PUT /v2/shop/commercial-orders/{ref}/lines changing 50 lines of a 200-line order
  (quantities alternate between two values, so each call really changes 50 lines).

Targets (issue 12): 1,000-line repriced synchronise p99 <= 100 ms; 200-line calls p99 <= 50
ms; and a raw-SQL synchronise of the same order (lock, one tiered re-price UPDATE … FROM,
totals, version) in the same run, with the ratio of the two (goal <= 5x). The targets are
judged with order history on (the default); the same cases then run on a server with
ORDERSYNC_HISTORY_ENABLED=false, printed beside them (issue 13), unless --no-history-off.

Run:
    .venv/bin/python benchmarks/sync.py
    .venv/bin/python benchmarks/sync.py --iterations 50 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from _common import (
    add_database_options,
    percentiles,
    print_machine,
    print_table,
    quiet_logging,
    running_app,
    throwaway_database,
    time_calls,
    verdict,
)
from fastapi import FastAPI
from sqlalchemy import text
from tests.bundle import KEY_1, catalog_bundle

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.rules.line_updates import MAX_LINE_UPDATES
from ordersync.services.data_bundle import load_bundle

SIZES = (10, 200, 1000)
RAW_SIZES = (200, 1000)
RATIO_GOAL = 5.0
CHANGED_LINES = 50
LINES_ORDER_SIZE = 200
PRICES = ("1.75", "1.50")  # the bulk offers start at 1.50: the first reload changes them
QUANTITIES = (3, 2)  # lines start at quantity 1: the first update changes them
HEADERS = {"dj-client": "ACCOUNT", "dj-api-key": KEY_1}


@dataclass
class Case:
    name: str
    lines: int
    samples: list[float]
    target_ms: float | None


def target_for(lines: int) -> float | None:
    return {1000: 100.0, 200: 50.0}.get(lines)


def expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise SystemExit(
            f"{response.request.method} {response.request.url.path}: expected {status}, "
            f"got {response.status_code}: {response.text[:500]}"
        )


def order_with_lines(client: httpx.Client, count: int) -> str:
    """A draft order of ACC-1 holding OP-0001.. at quantity 1 (500 updates per request)."""
    response = client.post("/v2/shop/commercial-orders", json={}, headers=HEADERS)
    expect(response, 201)
    reference: str = response.json()["reference"]
    for start in range(1, count + 1, MAX_LINE_UPDATES):
        lines = [
            {"id": f"OP-{i:04d}", "quantity": 1}
            for i in range(start, min(start + MAX_LINE_UPDATES, count + 1))
        ]
        put_lines(client, reference, lines)
    return reference


def put_lines(client: httpx.Client, reference: str, lines: list[dict[str, Any]]) -> httpx.Response:
    response = client.put(
        f"/v2/shop/commercial-orders/{reference}/lines",
        json={"updateOrderCommercialLines": lines},
        headers=HEADERS,
    )
    expect(response, 200)
    return response


def sync(client: httpx.Client, reference: str) -> httpx.Response:
    return client.put(f"/v1/shop/commercial-orders/{reference}/sync", headers=HEADERS)


class Repricer:
    """Reloads the net price of the first bulk offers, as an operator's catalog load does."""

    def __init__(self, app: FastAPI) -> None:
        self.session_factory = app.state.session_factory
        # The bulk offers OFR-0001..OFR-1100, in order (the special ones are named, not numbered).
        self.offers = [o for o in catalog_bundle()["offers"] if o["externalId"][4:].isdigit()]

    def set_price(self, count: int, net: str) -> None:
        offers = copy.deepcopy(self.offers[:count])
        for offer in offers:
            offer["prices"][0]["tiers"][0]["netUnitPrice"] = net
        load_bundle(UnitOfWork(self.session_factory), {"offers": offers})


def sync_cases(
    app: FastAPI, client: httpx.Client, iterations: Callable[[int], int], warmup: int
) -> list[Case]:
    repricer = Repricer(app)
    unchanged: list[Case] = []
    repriced: list[Case] = []
    for size in SIZES:
        reference = order_with_lines(client, size)

        def check_unchanged(response: httpx.Response) -> None:
            expect(response, 204)

        def call(_: int, reference: str = reference) -> httpx.Response:
            return sync(client, reference)

        samples = time_calls(call, iterations(size), warmup, check=check_unchanged)
        unchanged.append(Case("sync, nothing to change (204)", size, samples, target_for(size)))

        def reprice(i: int, size: int = size) -> None:
            repricer.set_price(size, PRICES[i % 2])

        def check_repriced(response: httpx.Response, size: int = size) -> None:
            expect(response, 200)
            codes = [w["code"] for w in response.json()]
            if len(codes) != size or set(codes) != {"PRICE_CHANGED"}:
                raise SystemExit(
                    f"expected {size} PRICE_CHANGED warnings, got {len(codes)} {set(codes)}"
                )

        samples = time_calls(call, iterations(size), warmup, before=reprice, check=check_repriced)
        repriced.append(Case("sync, every line repriced (200)", size, samples, target_for(size)))
        repricer.set_price(size, PRICES[-1])  # back to the catalog price for the next order
    return unchanged + repriced


# The floor a synchronise is compared with: the same order's lines repriced by the database
# alone, in one transaction - lock the order, one tiered re-price UPDATE … FROM, the
# logistic orders' and the order's totals, the version. No rules, no warnings, no HTTP.
RAW_SYNC = (
    "SELECT id FROM commercial_orders WHERE id = :id FOR UPDATE",
    """
    WITH priced AS (
        SELECT ol.id, ol.quantity, op.tax_rate, t.net, t.gross
        FROM order_lines ol
        JOIN logistic_orders lo ON lo.id = ol.logistic_order_id
        JOIN offer_prices op ON op.id = ol.offer_price_id
        CROSS JOIN LATERAL (
            SELECT (tier->>'netUnitPrice')::numeric AS net,
                   (tier->>'grossUnitPrice')::numeric AS gross
            FROM json_array_elements(op.tiers) AS tier
            WHERE (tier->>'minQuantity')::int <= ol.quantity
            ORDER BY (tier->>'minQuantity')::int DESC
            LIMIT 1
        ) AS t
        WHERE lo.commercial_order_id = :id
    )
    UPDATE order_lines ol
    SET net_unit_price = p.net,
        gross_unit_price = p.gross,
        total_net = round(p.net * p.quantity, 2),
        tax_amount = round(round(p.net * p.quantity, 2) * p.tax_rate / 100, 2),
        total_gross = round(p.net * p.quantity, 2)
                      + round(round(p.net * p.quantity, 2) * p.tax_rate / 100, 2)
    FROM priced p
    WHERE ol.id = p.id
    """,
    """
    UPDATE logistic_orders lo
    SET total_net = s.net, total_tax = s.tax, total_gross = s.net + s.tax
    FROM (
        SELECT logistic_order_id, sum(total_net) AS net, sum(tax_amount) AS tax
        FROM order_lines
        WHERE logistic_order_id IN (
            SELECT id FROM logistic_orders WHERE commercial_order_id = :id
        )
        GROUP BY logistic_order_id
    ) AS s
    WHERE lo.id = s.logistic_order_id
    """,
    """
    UPDATE commercial_orders co
    SET total_net = s.net, total_tax = s.tax, total_gross = s.net + s.tax,
        version = co.version + 1
    FROM (
        SELECT sum(total_net) AS net, sum(total_tax) AS tax
        FROM logistic_orders WHERE commercial_order_id = :id
    ) AS s
    WHERE co.id = :id
    """,
)


def raw_sync_case(
    app: FastAPI, client: httpx.Client, size: int, iterations: int, warmup: int
) -> Case:
    """The raw-SQL synchronise of an order of `size` lines, repriced before each call like
    the ordersync case, through one pooled connection of the same engine."""
    repricer = Repricer(app)
    reference = order_with_lines(client, size)
    engine = app.state.engine
    with engine.connect() as conn:
        order_id = conn.execute(
            text("SELECT id FROM commercial_orders WHERE reference = :r"), {"r": reference}
        ).scalar_one()

    def call(_: int) -> None:
        with engine.begin() as conn:
            for statement in RAW_SYNC:
                conn.execute(text(statement), {"id": order_id})

    def reprice(i: int) -> None:
        repricer.set_price(size, PRICES[i % 2])

    samples = time_calls(call, iterations, warmup, before=reprice)
    repricer.set_price(size, PRICES[-1])
    return Case("raw-SQL synchronise, repriced", size, samples, None)


def update_lines_case(client: httpx.Client, iterations: int, warmup: int) -> Case:
    reference = order_with_lines(client, LINES_ORDER_SIZE)

    def call(i: int) -> httpx.Response:
        quantity = QUANTITIES[i % 2]
        lines = [{"id": f"OP-{n:04d}", "quantity": quantity} for n in range(1, CHANGED_LINES + 1)]
        return client.put(
            f"/v2/shop/commercial-orders/{reference}/lines",
            json={"updateOrderCommercialLines": lines},
            headers=HEADERS,
        )

    def check(response: httpx.Response) -> None:
        expect(response, 200)

    samples = time_calls(call, iterations, warmup, check=check)
    return Case(
        f"update-lines, {CHANGED_LINES} changed (200)",
        LINES_ORDER_SIZE,
        samples,
        target_for(LINES_ORDER_SIZE),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="Timed calls per case (default: 200, and 100 for 1,000-line orders)",
    )
    parser.add_argument("--warmup", type=int, default=10, help="Untimed calls per case first")
    parser.add_argument(
        "--no-history-off",
        action="store_true",
        help="Skip the second pass on a server with order history off",
    )
    add_database_options(parser)
    args = parser.parse_args()

    def iterations(lines: int) -> int:
        return int(args.iterations or (100 if lines >= 1000 else 200))

    quiet_logging()
    started = time.perf_counter()
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        with running_app(url, args.transport) as (app, client):
            load_bundle(UnitOfWork(app.state.session_factory), catalog_bundle())
            cases = sync_cases(app, client, iterations, args.warmup)
            cases.append(update_lines_case(client, iterations(LINES_ORDER_SIZE), args.warmup))
            floors = {
                size: raw_sync_case(app, client, size, iterations(size), args.warmup)
                for size in RAW_SIZES
            }
        quiet_cases: list[Case] = []
        if not args.no_history_off:
            with running_app(url, args.transport, history=False) as (app, client):
                quiet_cases = sync_cases(app, client, iterations, args.warmup)
                quiet_cases.append(
                    update_lines_case(client, iterations(LINES_ORDER_SIZE), args.warmup)
                )
    print()
    rows: list[list[object]] = []
    for case in cases:
        p50, p99 = percentiles(case.samples)
        target = f"p99 <= {case.target_ms:.0f}" if case.target_ms else "-"
        result = verdict(p99, case.target_ms)
        off = next((c for c in quiet_cases if (c.name, c.lines) == (case.name, case.lines)), None)
        p50_off, p99_off = percentiles(off.samples) if off else ("-", "-")
        rows.append(
            [case.name, case.lines, len(case.samples), p50, p99, p50_off, p99_off, target, result]
        )
    for case in floors.values():
        p50, p99 = percentiles(case.samples)
        rows.append([case.name, case.lines, len(case.samples), p50, p99, "-", "-", "-", "-"])
    print("History on (the default), and off (ORDERSYNC_HISTORY_ENABLED=false):")
    print_table(
        [
            "case",
            "lines",
            "n",
            "p50 ms",
            "p99 ms",
            "off p50",
            "off p99",
            "target ms",
            "result",
        ],
        rows,
    )
    print()
    for size, floor in floors.items():
        repriced = next(
            c for c in cases if c.lines == size and c.name.startswith("sync, every line")
        )
        ours, raw = percentiles(repriced.samples)[1], percentiles(floor.samples)[1]
        goal = "PASS" if ours <= RATIO_GOAL * raw else "MISS"
        print(
            f"{size}-line repriced synchronise p99 / raw-SQL p99: {ours:.1f} / {raw:.1f} ms"
            f" = {ours / raw:.1f}x (goal <= {RATIO_GOAL:.0f}x) {goal}"
        )
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
