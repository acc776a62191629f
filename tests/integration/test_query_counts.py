"""The SQL statements of the hot requests: how many (each is a round trip), and that their
number does not grow with the order's lines (issue 12). `BEGIN IMMEDIATE`, SQLite's way to
take its write lock, is not counted: PostgreSQL begins with the first statement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from ordersync.adapters.db.order_rows import JOINED_UP_TO
from tests.api import create_order, headers, load, put_lines
from tests.bundle import catalog_bundle
from tests.integration.second_process import second_process

SMALL, LARGE = 1, 200


@contextmanager
def count_statements(client: TestClient) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _order_with_lines(client: TestClient, n: int) -> str:
    reference = create_order(client)
    response = put_lines(
        client, reference, [{"id": f"OP-{i:04d}", "quantity": 1} for i in range(1, n + 1)]
    )
    assert response.status_code == 200, response.text
    return reference


def _bulk_offers_with_price(net: str) -> list[dict[str, Any]]:
    offers = [o for o in catalog_bundle()["offers"] if o["externalId"].startswith("OFR-0")]
    for offer in offers[:LARGE]:
        offer["prices"][0]["tiers"][0]["netUnitPrice"] = net
    return offers[:LARGE]


def _order_reads(lines: int, *, kept: bool = True) -> list[str]:
    """Reading an order to write it: the order (locked); then, unless this process keeps
    the order's rows as of that order row (it last read or wrote it: order_cache), its
    logistic orders and lines joined, or apart past JOINED_UP_TO lines (their columns not
    repeated on each line)."""
    if kept:
        return ["SELECT"]
    return ["SELECT"] * (2 if lines <= JOINED_UP_TO else 3)


def _update_lines_statements(lines: int, *, kept: bool) -> list[str]:
    """An update of lines, sorted: the order read; the lines, the logistic orders and the
    order (version) written; the history entry."""
    return [
        "INSERT order_history",
        *_order_reads(lines, kept=kept),
        "UPDATE commercial_orders",
        "UPDATE logistic_orders",
        "UPDATE order_lines",
    ]


def _kinds(statements: list[str]) -> list[str]:
    """Each statement's verb and table, e.g. "UPDATE order_lines"."""
    kinds = []
    for statement in statements:
        words = statement.split()
        table = {"SELECT": "", "UPDATE": words[1], "INSERT": words[2]}.get(words[0], "")
        kinds.append(f"{words[0]} {table}".strip())
    return kinds


def test_the_shop_get_of_an_order_is_one_statement(client: TestClient) -> None:
    reference = _order_with_lines(client, LARGE)
    url = f"/v1/shop/commercial-orders/{reference}"
    assert client.get(url, headers=headers()).status_code == 200  # the caller cached
    with count_statements(client) as statements:
        response = client.get(url, headers=headers())
    assert response.status_code == 200, response.text
    assert sum(len(lo["lines"]) for lo in response.json()["logisticOrders"]) == LARGE
    assert len(statements) == 1, statements


@pytest.mark.parametrize("lines", [SMALL, LARGE])
def test_update_lines_is_a_fixed_number_of_statements_whatever_the_lines(
    client: TestClient, lines: int
) -> None:
    reference = _order_with_lines(client, lines)
    with count_statements(client) as statements:
        response = put_lines(
            client, reference, [{"id": f"OP-{i:04d}", "quantity": 3} for i in range(1, lines + 1)]
        )
    assert response.status_code == 200, response.text
    # Lock and read the order (its logistic orders and lines are kept since this process
    # wrote them); write the lines, the logistic orders and the order (version); the
    # history entry.
    assert sorted(_kinds(statements)) == _update_lines_statements(lines, kept=True), statements


@pytest.mark.parametrize("lines", [SMALL, LARGE])
def test_update_lines_of_an_order_the_process_does_not_keep_reads_its_lines(
    client: TestClient, database_url: str, lines: int
) -> None:
    """A process with no order cache (as after another process wrote the order): the
    order's logistic orders and lines are read, joined or apart by size."""
    reference = _order_with_lines(client, lines)
    with second_process(database_url, order_cache_lines=0) as (_, uncached):
        for quantity in (2, 4, 3):  # counted: the third (the caller, the catalog cached)
            body = [{"id": f"OP-{i:04d}", "quantity": quantity} for i in range(1, lines + 1)]
            with count_statements(uncached) as statements:
                response = put_lines(uncached, reference, body)
            assert response.status_code == 200, response.text
    assert sorted(_kinds(statements)) == _update_lines_statements(lines, kept=False), statements


def test_a_synchronise_with_nothing_to_change_only_reads_the_order(client: TestClient) -> None:
    reference = _order_with_lines(client, LARGE)
    url = f"/v1/shop/commercial-orders/{reference}/sync"
    assert client.put(url, headers=headers()).status_code == 204  # offer prices cached
    with count_statements(client) as statements:
        response = client.put(url, headers=headers())
    assert response.status_code == 204, response.text
    # The order (its logistic orders and lines kept), the prices are cached.
    assert _kinds(statements) == _order_reads(LARGE), statements


@pytest.mark.parametrize("lines", [SMALL, LARGE])
def test_a_synchronise_that_reprices_every_line_is_a_fixed_number_of_statements(
    client: TestClient, lines: int
) -> None:
    reference = _order_with_lines(client, lines)
    load(client, {"offers": _bulk_offers_with_price("1.75")})
    try:
        with count_statements(client) as statements:
            response = client.put(
                f"/v1/shop/commercial-orders/{reference}/sync", headers=headers()
            )
        assert response.status_code == 200, response.text
        assert len(response.json()) == lines  # one PRICE_CHANGED per line: all were rewritten
        # The order (its logistic orders and lines kept), the offer prices (the load dropped
        # the cached ones); the lines, the logistic orders, the order; the history entry.
        assert sorted(_kinds(statements)) == [
            "INSERT order_history",
            *_order_reads(lines),
            "SELECT",
            "UPDATE commercial_orders",
            "UPDATE logistic_orders",
            "UPDATE order_lines",
        ], statements
    finally:
        load(client, {"offers": _bulk_offers_with_price("1.50")})
