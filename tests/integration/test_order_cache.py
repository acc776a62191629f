"""The serving process's order cache (adapters/db/order_cache.py): a write of an order this
process last read under lock or wrote reads only the order's row, and what it then works on
is exactly what the database would have given."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select, text

from ordersync.adapters.db.order_cache import OrderCache
from ordersync.adapters.db.tables import commercial_orders
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.orders import CommercialOrder
from tests.api import create_order, get_order, headers, load, put_lines
from tests.bundle import catalog_bundle
from tests.integration.operator_helpers import ADDRESS, logistic_refs, patch
from tests.integration.second_process import second_process

OFFERS = [f"OP-{i:04d}" for i in range(1, 61)]  # 60 lines: read apart when not kept


def _bulk_offers(net: str) -> list[dict[str, Any]]:
    offers = [o for o in catalog_bundle()["offers"] if o["externalId"].startswith("OFR-0")]
    for offer in offers[: len(OFFERS)]:
        offer["prices"][0]["tiers"][0]["netUnitPrice"] = net
    return offers[: len(OFFERS)]


def _read(app: FastAPI, reference: str, cache: OrderCache | None) -> CommercialOrder:
    with UnitOfWork(app.state.session_factory, orders=cache) as uow:
        order = uow.orders.get(reference, for_update=True)
    assert order is not None
    return order


def _values(obj: Any) -> dict[str, tuple[str, str]]:
    """Every attribute as its type and repr: 1.5 and 1.5000 differ, as do a str and an
    enumeration member, a list and a tuple."""
    return {
        name: (type(value).__name__, repr(value))
        for name, value in vars(obj).items()
        if name not in ("logistic_orders", "lines")
    }


def _shape(order: CommercialOrder) -> Any:
    return _values(order), [
        (_values(lo), [_values(line) for line in lo.lines]) for lo in order.logistic_orders
    ]


@contextmanager
def _selects(app: FastAPI) -> Iterator[list[str]]:
    """The SELECTs this thread makes (on SQLite the server runs import jobs on threads of
    its own, whose statements are not the read's)."""
    seen: list[str] = []
    this_thread = threading.get_ident()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() == this_thread and statement.lstrip().startswith("SELECT"):
            seen.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)


def _kept_read_is_the_database_read(app: FastAPI, reference: str) -> None:
    """The order read through the app's cache (one statement: it is kept) is, value for
    value and in the same order, the order read from the database."""
    with _selects(app) as selects:
        kept = _read(app, reference, app.state.order_cache)
    assert len(selects) == 1, selects
    assert _shape(kept) == _shape(_read(app, reference, None))


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response


def _sync(client: TestClient, reference: str) -> Any:
    return client.put(f"/v1/shop/commercial-orders/{reference}/sync", headers=headers())


WRITES: dict[str, Callable[[TestClient, str], Any]] = {
    "quantities changed": lambda client, reference: _ok(
        put_lines(client, reference, [{"id": o, "quantity": 3} for o in OFFERS[:20]])
    ),
    "lines added, with custom fields": lambda client, reference: _ok(
        put_lines(
            client,
            reference,
            [
                {
                    "id": "OP-TIER",
                    "quantity": 7,
                    "customFields": [
                        {"customFieldId": "CF-NOTE", "customFieldValue": "Deliver to dock 4"},
                        {"customFieldId": "CF-URGENT", "customFieldValue": True},
                    ],
                }
            ],
        )
    ),
    "lines removed": lambda client, reference: _ok(
        put_lines(client, reference, [{"id": o, "quantity": 0} for o in OFFERS[-5:]])
    ),
    "every line repriced": lambda client, reference: _ok(_sync(client, reference)),
    "shipping address set by an operator": lambda client, reference: _ok(
        patch(
            client,
            next(iter(logistic_refs(client, reference).values())),
            {"shippingAddress": ADDRESS},
        )
    ),
    "placed": lambda client, reference: _ok(
        client.put(f"/v1/shop/commercial-orders/{reference}/created", headers=headers())
    ),
}


def test_after_each_kind_of_write_the_kept_order_is_what_the_database_gives(
    client: TestClient,
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    reference = create_order(client)
    _ok(put_lines(client, reference, [{"id": o, "quantity": 1} for o in OFFERS]))
    _kept_read_is_the_database_read(app, reference)
    load(client, {"offers": _bulk_offers("1.75")})  # the synchronise reprices 55 lines
    try:
        for write in WRITES.values():
            write(client, reference)
            _kept_read_is_the_database_read(app, reference)
    finally:
        load(client, {"offers": _bulk_offers("1.50")})


def test_a_write_by_another_process_is_seen_by_the_next_write(
    client: TestClient, database_url: str
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    reference = create_order(client)
    _ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 1}]))
    with second_process(database_url) as (_, elsewhere):
        _ok(put_lines(elsewhere, reference, [{"id": "OP-TIER", "quantity": 5}]))
        # This process still keeps the order at quantity 1; its row moved on, so the next
        # write reads the lines again and builds on quantity 5.
        _ok(put_lines(client, reference, [{"id": "OP-0001", "quantity": 1}]))
    body = get_order(client, reference)
    lines = {ln["offerPriceExternalId"]: ln for lo in body["logisticOrders"] for ln in lo["lines"]}
    assert (lines["OP-TIER"]["quantity"], lines["OP-0001"]["quantity"]) == (5, 1)
    _kept_read_is_the_database_read(app, reference)


def test_a_change_that_does_not_move_the_version_is_not_seen_until_one_does(
    client: TestClient,
) -> None:
    """The contract the cache rests on, shown: every writer moves the version (a change made
    by hand must too)."""
    app: FastAPI = client.app  # type: ignore[assignment]
    reference = create_order(client)
    _ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 1}]))
    with app.state.engine.begin() as conn:
        conn.execute(text("UPDATE order_lines SET quantity = 9"))
    assert _read(app, reference, app.state.order_cache).logistic_orders[0].lines[0].quantity == 1
    with app.state.engine.begin() as conn:
        conn.execute(text("UPDATE commercial_orders SET version = version + 1"))
    assert _read(app, reference, app.state.order_cache).logistic_orders[0].lines[0].quantity == 9


def test_a_write_that_fails_leaves_what_is_kept_as_stored(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    reference = create_order(client)
    _ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 2}]))
    with (
        pytest.raises(RuntimeError),
        UnitOfWork(app.state.session_factory, orders=app.state.order_cache) as uow,
    ):
        order = uow.orders.get(reference, for_update=True)
        assert order is not None
        order.logistic_orders[0].lines[0].quantity = 40  # changed in memory, flushed,
        uow.flush()
        raise RuntimeError("then the request fails: rolled back")
    kept = _read(app, reference, app.state.order_cache)
    assert kept.logistic_orders[0].lines[0].quantity == 2
    _kept_read_is_the_database_read(app, reference)


def _order_rows(app: FastAPI, reference: str) -> Any:
    with app.state.engine.connect() as conn:
        return conn.execute(
            select(commercial_orders).where(commercial_orders.c.reference == reference)
        ).one()


def test_the_cache_holds_at_most_its_lines_least_recently_used_out(client: TestClient) -> None:
    """An order counts its lines and one for itself against the bound."""
    app: FastAPI = client.app  # type: ignore[assignment]
    small = OrderCache(max_lines=5)
    one, two, big = create_order(client), create_order(client), create_order(client)
    _ok(put_lines(client, one, [{"id": o, "quantity": 1} for o in OFFERS[:2]]))
    _ok(put_lines(client, two, [{"id": "OP-0003", "quantity": 1}]))
    _ok(put_lines(client, big, [{"id": o, "quantity": 1} for o in OFFERS[:5]]))
    for reference in (one, two, big):
        _read(app, reference, small)
    # (2 + 1) + (1 + 1) fit; the 5-line order (6) is never kept.
    assert small.order(_order_rows(app, one)) is not None
    assert small.order(_order_rows(app, two)) is not None
    assert small.order(_order_rows(app, big)) is None
    _ok(put_lines(client, big, [{"id": o, "quantity": 0} for o in OFFERS[1:5]]))
    _read(app, big, small)  # 1 + 1 now: the least recently used order (one) makes room
    assert small.order(_order_rows(app, one)) is None
    assert small.order(_order_rows(app, two)) is not None
    assert small.order(_order_rows(app, big)) is not None


def test_orders_without_lines_fill_the_cache_no_further_than_its_bound(
    client: TestClient,
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    small = OrderCache(max_lines=3)
    empty = [create_order(client) for _ in range(5)]
    for reference in empty:
        _read(app, reference, small)
    kept = [small.order(_order_rows(app, reference)) is not None for reference in empty]
    assert kept == [False, False, True, True, True]


def test_a_process_with_no_order_cache_reads_every_order(
    client: TestClient,  # its clean-up removes the order made here
    database_url: str,
) -> None:
    with second_process(database_url, order_cache_lines=0) as (app, uncached):
        assert app.state.order_cache is None
        reference = create_order(uncached)
        _ok(put_lines(uncached, reference, [{"id": "OP-TIER", "quantity": 1}]))
        with _selects(app) as selects:
            _read(app, reference, app.state.order_cache)
        assert len(selects) == 2, selects  # the order, its logistic orders and lines
