"""The number of SQL statements of update-lines and synchronise does not grow with lines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.api import create_order, headers, load, put_lines
from tests.bundle import catalog_bundle

SMALL, LARGE = 1, 200
TOLERANCE = 2


@contextmanager
def count_statements(client: TestClient) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

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


def test_update_lines_statement_count_does_not_grow_with_lines(client: TestClient) -> None:
    counts = {}
    for n in (SMALL, LARGE):
        reference = _order_with_lines(client, n)
        with count_statements(client) as statements:
            response = put_lines(
                client, reference, [{"id": f"OP-{i:04d}", "quantity": 3} for i in range(1, n + 1)]
            )
        assert response.status_code == 200, response.text
        counts[n] = len(statements)
    assert counts[LARGE] - counts[SMALL] <= TOLERANCE, counts


def test_synchronise_statement_count_does_not_grow_with_lines(client: TestClient) -> None:
    orders = {n: _order_with_lines(client, n) for n in (SMALL, LARGE)}
    load(client, {"offers": _bulk_offers_with_price("1.75")})
    try:
        counts = {}
        for n, reference in orders.items():
            with count_statements(client) as statements:
                response = client.put(
                    f"/v1/shop/commercial-orders/{reference}/sync", headers=headers()
                )
            assert response.status_code == 200, response.text
            assert len(response.json()) == n  # one PRICE_CHANGED per line: all were rewritten
            counts[n] = len(statements)
        assert counts[LARGE] - counts[SMALL] <= TOLERANCE, counts
    finally:
        load(client, {"offers": _bulk_offers_with_price("1.50")})
