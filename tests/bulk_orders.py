"""Many internal orders at once, with set-based SQL (three INSERT … SELECT statements), for
the import benchmark and the worker-crash test: the API would take hours for a million
lines. Works on PostgreSQL and SQLite, on a database holding the test catalog
(tests/bundle.py).

Each commercial order has one logistic order of SUP-A in DRAFT_ORDER, shipping to ACC-1's
first address, with `lines` lines of 2 units of SUP-A's bulk offers (OP-0001, OP-0003, …:
1.50 net, 2.00 gross, 20 % tax). The statements name the columns through the Table objects
of `adapters/db/tables.py`, so they follow the schema.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, Engine, String, cast, insert, literal, select, true

from ordersync.adapters.db.tables import (
    accounts,
    commercial_orders,
    logistic_orders,
    offer_prices,
    offers,
    order_lines,
    stores,
    suppliers,
    users,
    variants,
)
from ordersync.adapters.db.types import ExactDecimal, UtcDateTime

PREFIX = "BLK"  # commercial orders BLK100000001…, logistic orders BLK100000001-1…
FIRST_NUMBER = 100_000_001
QUANTITY = 2
NET, GROSS, RATE = Decimal("1.50"), Decimal("2.00"), Decimal("20")
MAX_LINES = 550  # SUP-A's bulk offers in the test catalog
MONEY = ExactDecimal(18, 4)
ADDRESS = {
    "externalId": "ADDR-1",
    "fullName": "Jane Doe",
    "streetName": "1 rue de la Paix",
    "city": "Paris",
    "zipCode": "75002",
    "country": "FR",
    "state": None,
    "additional": None,
}

co, lo, ln = commercial_orders.c, logistic_orders.c, order_lines.c


def offer_price_ids(count: int) -> list[str]:
    """The SUP-A bulk offer prices the lines take, one per line of an order."""
    if not 0 < count <= MAX_LINES:
        raise ValueError(f"1 to {MAX_LINES} lines per order")
    return [f"OP-{i:04d}" for i in range(1, 2 * count, 2)]


def _money(value: Decimal) -> Any:
    return literal(value, MONEY)


def create_orders(engine: Engine, orders: int, lines: int) -> None:
    """`orders` commercial orders of one logistic order of `lines` lines each."""
    line_net = NET * QUANTITY
    line_tax = (line_net * RATE / 100).quantize(Decimal("0.01"))
    total_net, total_tax = line_net * lines, line_tax * lines
    now = literal(datetime.now(UTC), UtcDateTime())
    with engine.begin() as conn:
        ids = _ids(conn)
        numbers = select(literal(FIRST_NUMBER).label("n")).cte("numbers", recursive=True)
        numbers = numbers.union_all(
            select(numbers.c.n + 1).where(numbers.c.n < FIRST_NUMBER + orders - 1)
        )
        reference = literal(PREFIX) + cast(numbers.c.n, String)
        order_values = {
            "reference": reference,
            "account_id": literal(ids["account"]),
            "customer_user_id": literal(ids["user"]),
            "store_id": literal(ids["store"]),
            "is_validated": literal(False),
            "checkout_type": literal("ORDER_BASED"),
            "is_full": literal(False),
            "currency": literal("EUR"),
            "total_net": _money(total_net),
            "total_tax": _money(total_tax),
            "total_gross": _money(total_net + total_tax),
            "product_count": literal(QUANTITY * lines),
            "line_count": literal(lines),
            "custom_fields": literal({}, JSON),
            "version": literal(1),
            "created_at": now,
            "updated_at": now,
        }
        conn.execute(
            insert(commercial_orders).from_select(
                list(order_values), select(*order_values.values())
            )
        )
        logistic_values = {
            "commercial_order_id": co.id,
            "reference": co.reference + literal("-1"),
            "supplier_id": literal(ids["supplier"]),
            "supplier_external_id": literal("SUP-A"),
            "status": literal("DRAFT_ORDER"),
            "shipping_address": literal(ADDRESS, JSON),
            "total_net": _money(total_net),
            "total_tax": _money(total_tax),
            "total_gross": _money(total_net + total_tax),
            "created_at": now,
            "updated_at": now,
        }
        conn.execute(
            insert(logistic_orders).from_select(
                list(logistic_values),
                select(*logistic_values.values()).where(co.reference.like(f"{PREFIX}%")),
            )
        )
        catalog = (
            select(
                offer_prices.c.id.label("offer_price_id"),
                offer_prices.c.external_id.label("offer_price_external_id"),
                variants.c.id.label("variant_id"),
                variants.c.external_id.label("variant_external_id"),
                variants.c.name,
                variants.c.description,
                variants.c.classification_external_id,
            )
            .join(offers, offers.c.id == offer_prices.c.offer_id)
            .join(variants, variants.c.id == offers.c.variant_id)
            .where(offer_prices.c.external_id.in_(offer_price_ids(lines)))
            .subquery()
        )
        line_values = {
            "logistic_order_id": lo.id,
            "variant_id": catalog.c.variant_id,
            "variant_external_id": catalog.c.variant_external_id,
            "offer_price_id": catalog.c.offer_price_id,
            "offer_price_external_id": catalog.c.offer_price_external_id,
            "quantity": literal(QUANTITY),
            "net_unit_price": _money(NET),
            "gross_unit_price": _money(GROSS),
            "tax_rate": literal(RATE, ExactDecimal(9, 4)),
            "tax_amount": _money(line_tax),
            "total_net": _money(line_net),
            "total_gross": _money(line_net + line_tax),
            "variant_name": catalog.c.name,
            "variant_description": catalog.c.description,
            "classification_external_id": catalog.c.classification_external_id,
            "custom_fields": literal({}, JSON),
        }
        conn.execute(
            insert(order_lines).from_select(
                list(line_values),
                select(*line_values.values())
                .select_from(logistic_orders)
                .join(catalog, true())
                .where(lo.reference.like(f"{PREFIX}%"))
                .order_by(lo.id, catalog.c.offer_price_id),
            )
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in (commercial_orders, logistic_orders, order_lines):
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {table.name}")


def _ids(conn: Connection) -> dict[str, int]:
    def one(table: Any, external_id: str) -> int:
        return int(
            conn.execute(select(table.c.id).where(table.c.external_id == external_id)).scalar_one()
        )

    return {
        "account": one(accounts, "ACC-1"),
        "user": one(users, "U-1"),
        "store": one(stores, "S1"),
        "supplier": one(suppliers, "SUP-A"),
    }


# --- the file an operator would upload --------------------------------------------------------

COLUMNS = (
    "Order Reference",
    "Order Line Id",
    "Account External Id",
    "Supplier External Id",
    "Offer Price External Id",
    "Order Line Quantity",
    "Net Unit Price",
    "Order Status",
)


def changed_quantity(line_id: int, run: int) -> int:
    """A quantity other than the one a line holds before run `run` (2 at first)."""
    return 3 + (line_id + run) % 5 + 5 * (run % 2)


def order_line_keys(engine: Engine, limit: int | None = None) -> Iterator[tuple[str, int, str]]:
    """(logistic order reference, line id, offer price) of the bulk orders' lines, in order."""
    query = (
        select(lo.reference, ln.id, ln.offer_price_external_id)
        .join(logistic_orders, lo.id == ln.logistic_order_id)
        .where(lo.reference.like(f"{PREFIX}%"))
        .order_by(lo.id, ln.id)
        .limit(limit)
        .execution_options(yield_per=20_000)
    )
    with engine.connect() as conn:
        yield from conn.execute(query).tuples()


def write_changed_file(engine: Engine, path: Path, run: int = 1, rows: int | None = None) -> int:
    """A CSV of the bulk orders' lines (`rows` of them, default all), each with a new
    quantity (changed_quantity): the number of rows written."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for reference, line_id, offer in order_line_keys(engine, rows):
            writer.writerow(
                (
                    reference,
                    line_id,
                    "ACC-1",
                    "SUP-A",
                    offer,
                    changed_quantity(line_id, run),
                    "1.5",
                    "DRAFT_ORDER",
                )
            )
            count += 1
    return count


def header(path: Path) -> Sequence[str]:
    with path.open(encoding="utf-8", newline="") as source:
        return next(csv.reader(source))
