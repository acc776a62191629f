#!/usr/bin/env python
"""Order-list latency on PostgreSQL with 100,000 orders (issue 6).

Fills a throwaway PostgreSQL database with 100,000 commercial orders spread over 50
accounts (2,000 each, created over the past year, ~40% validated, ~20% from an operation),
then measures GET /v2/shop/commercial-orders?size=20&page=<0..50>&sort=<each sort> for one
account's user, through the whole HTTP stack (by default the real `ordersync serve`
process over loopback HTTP; `--transport in-process` uses TestClient),
and prints p50/p99 per sort against the target p99 <= 20 ms. It then prints
EXPLAIN (ANALYZE, BUFFERS) of the SQL behind one call with the default sort, so a reader
can see whether an index serves it.

Run:
    .venv/bin/python benchmarks/list.py
    .venv/bin/python benchmarks/list.py --iterations 100 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, text

from ordersync.adapters.db.tables import accounts, commercial_orders, stores, users
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.services.data_bundle import load_bundle

ACCOUNTS = 50
ORDERS = 100_000
PAGE_SIZE = 20
LAST_PAGE = 50
TARGET_MS = 20.0
VALIDATED_SHARE = 0.4
OPERATION_SHARE = 0.2
OPERATIONS = ("OPN-SPRING", "OPN-SUMMER", "OPN-AUTUMN", "OPN-WINTER", "OPN-FLASH")
SORTS: tuple[str | None, ...] = (
    None,  # the default: createdAt:desc, then reference:asc
    "createdAt:desc",
    "createdAt:asc",
    "updatedAt:desc",
    "validatedAt:desc",
    "reference:asc",
    "sourceType:asc",
    "sourceId:desc",
)
COPY_COLUMNS = (
    "reference",
    "account_id",
    "customer_user_id",
    "store_id",
    "is_validated",
    "validated_at",
    "checkout_type",
    "source_type",
    "source_id",
    "is_full",
    "currency",
    "total_net",
    "total_tax",
    "total_gross",
    "product_count",
    "line_count",
    "custom_fields",
    "version",
    "created_at",
    "updated_at",
)


def api_key(account: int) -> str:
    return f"bench-list-key-{account:03d}"


def accounts_bundle(count: int) -> dict[str, Any]:
    """One store, `count` accounts and one ACCOUNT user each; no catalog is needed."""
    return {
        "settings": {"defaultStore": "S1", "currency": "EUR"},
        "stores": [{"externalId": "S1", "name": "Main", "default": True}],
        "accounts": [
            {"externalId": f"ACC-{n:03d}", "name": f"Buyer {n}", "stores": ["S1"]}
            for n in range(1, count + 1)
        ],
        "users": [
            {
                "externalId": f"U-{n:03d}",
                "clientType": "ACCOUNT",
                "apiKey": api_key(n),
                "accounts": [f"ACC-{n:03d}"],
                "stores": ["S1"],
            }
            for n in range(1, count + 1)
        ],
    }


def reference(rng: random.Random, taken: set[str]) -> str:
    """Shaped like the app's new_reference() (260-211-8089583), unique in this fill."""
    while True:
        digits = f"{rng.randrange(10**13):013d}"
        candidate = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def order_rows(
    count: int, owners: list[tuple[int, int]], store_id: int, seed: int = 6
) -> Iterator[tuple[Any, ...]]:
    """Orders in creation order over the past year, the accounts taking turns, so one
    account's orders are spread over the whole table as in a live database."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    year = timedelta(days=365).total_seconds()
    offsets = sorted(rng.uniform(0, year) for _ in range(count))
    taken: set[str] = set()
    for n, offset in enumerate(offsets):
        account_id, user_id = owners[n % len(owners)]
        created = now - timedelta(seconds=year - offset)
        updated = created + timedelta(seconds=rng.uniform(0, min(30 * 86400, year - offset)))
        validated = rng.random() < VALIDATED_SHARE
        from_operation = rng.random() < OPERATION_SHARE
        yield (
            reference(rng, taken),
            account_id,
            user_id,
            store_id,
            validated,
            updated if validated else None,
            "ORDER_BASED",
            "OPERATION" if from_operation else None,
            rng.choice(OPERATIONS) if from_operation else None,
            False,
            "EUR",
            0,
            0,
            0,
            0,
            0,
            "{}",
            1,
            created,
            updated,
        )


def fill_orders(engine: Engine, count: int) -> None:
    """COPY the orders in (set-based, as the CSV import stages rows), then VACUUM ANALYZE."""
    with engine.connect() as conn:
        account_ids = dict(conn.execute(select(accounts.c.external_id, accounts.c.id)).all())
        user_ids = dict(conn.execute(select(users.c.external_id, users.c.id)).all())
        store_id = conn.execute(
            select(stores.c.id).where(stores.c.external_id == "S1")
        ).scalar_one()
        owners = [
            (account_ids[f"ACC-{n:03d}"], user_ids[f"U-{n:03d}"]) for n in range(1, ACCOUNTS + 1)
        ]
        driver = conn.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(
                f"COPY {commercial_orders.name} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
            ) as copy,
        ):
            for row in order_rows(count, owners, store_id):
                copy.write_row(row)
        conn.commit()
    # VACUUM as well as ANALYZE: autovacuum would soon do the same on a live table after a
    # bulk insert; doing it here makes every run start from the same state.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM (ANALYZE) {commercial_orders.name}"))


def list_params(sort: str | None, page: int) -> dict[str, str | int]:
    params: dict[str, str | int] = {"size": PAGE_SIZE, "page": page}
    if sort is not None:
        params["sort"] = sort
    return params


def measure(
    client: httpx.Client, headers: dict[str, str], iterations: int, warmup: int
) -> list[list[object]]:
    rows: list[list[object]] = []
    expected_total = ORDERS // ACCOUNTS
    for sort in SORTS:

        def call(i: int, sort: str | None = sort) -> httpx.Response:
            # 17 and 51 are coprime: the calls walk over every page 0..50 in a scattered order.
            page = (i * 17) % (LAST_PAGE + 1)
            return client.get(
                "/v2/shop/commercial-orders", params=list_params(sort, page), headers=headers
            )

        def check(response: httpx.Response) -> None:
            body = response.json() if response.status_code == 200 else None
            if body is None or body["totalElements"] != expected_total:
                raise SystemExit(
                    f"unexpected answer {response.status_code}: {response.text[:300]}"
                )
            if len(body["content"]) != PAGE_SIZE:
                raise SystemExit(f"expected {PAGE_SIZE} items, got {len(body['content'])}")

        samples = time_calls(call, iterations, warmup, check=check)
        p50, p99 = percentiles(samples)
        target = f"p99 <= {TARGET_MS:.0f}"
        rows.append([sort or "(default)", len(samples), p50, p99, target, verdict(p99, TARGET_MS)])
    return rows


@contextmanager
def captured_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL (with its parameters) the engine sends while the block runs."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explain_default_sort(app: FastAPI, headers: dict[str, str]) -> None:
    """Capture the statements of one list call made in-process (so this interpreter sees
    them, whatever the transport measured), then EXPLAIN each."""
    engine: Engine = app.state.engine
    with captured_statements(engine) as statements, TestClient(app) as client:
        response = client.get(
            "/v2/shop/commercial-orders", params=list_params(None, LAST_PAGE), headers=headers
        )
    if response.status_code != 200:
        raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:300]}")
    listing = [
        (sql, params) for sql, params in statements if f"FROM {commercial_orders.name}" in sql
    ]
    with engine.connect() as conn:
        for sql, params in listing:
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).scalars()
            print(f"\n{' '.join(sql.split())}\n  parameters: {params}\n")
            print("\n".join(f"  {line}" for line in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300, help="Timed calls per sort")
    parser.add_argument("--warmup", type=int, default=30, help="Untimed calls per sort first")
    add_database_options(parser)
    args = parser.parse_args()

    quiet_logging()
    started = time.perf_counter()
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        with running_app(url, args.transport) as (app, client):
            load_bundle(UnitOfWork(app.state.session_factory), accounts_bundle(ACCOUNTS))
            fill_started = time.perf_counter()
            fill_orders(app.state.engine, ORDERS)
            print(
                f"Data:       {ORDERS:,} orders over {ACCOUNTS} accounts "
                f"({ORDERS // ACCOUNTS:,} each), filled with COPY + VACUUM ANALYZE in "
                f"{time.perf_counter() - fill_started:.1f} s; measured as ACC-001's user, "
                f"pages 0..{LAST_PAGE} of {PAGE_SIZE}"
            )
            headers = {"dj-client": "ACCOUNT", "dj-api-key": api_key(1)}
            rows = measure(client, headers, args.iterations, args.warmup)
            print()
            print_table(["sort", "n", "p50 ms", "p99 ms", "target ms", "result"], rows)
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the default sort, page {LAST_PAGE}:")
            explain_default_sort(app, headers)
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
