"""The order aggregate's persistence (adapters/db/order_rows.py), on SQLite and PostgreSQL:
a write sends what changed and nothing else, keeps its statements in an order the unique
constraints accept, and refuses to overwrite a version it did not read."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ordersync.adapters.db import bulk, order_rows
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.errors import DuplicateValue, StaleWrite
from ordersync.domain.history import Entity, Source, snapshot
from ordersync.domain.orders import CommercialOrder, OrderLine
from tests.api import create_order, get_order, put_lines
from tests.integration.test_history import entries


def _order_of_three_lines(client: TestClient) -> str:
    reference = create_order(client)
    lines = [{"id": f"OP-000{i}", "quantity": 1} for i in (1, 2, 3)]
    assert put_lines(client, reference, lines).status_code == 200
    return reference


def _uow(app: FastAPI) -> UnitOfWork:
    return UnitOfWork(app.state.session_factory)


def _locked(uow: UnitOfWork, reference: str) -> CommercialOrder:
    order = uow.orders.get(reference, for_update=True)
    assert order is not None
    return order


def test_a_write_changes_only_the_line_it_changed_and_moves_the_version_once(
    app: FastAPI, client: TestClient
) -> None:
    reference = _order_of_three_lines(client)
    before = get_order(client, reference)
    with _uow(app) as uow:
        order = _locked(uow, reference)
        order.lines[1].quantity = 7
        uow.commit(Source.API)
    after = get_order(client, reference)
    assert after["version"] == before["version"] + 1
    old = [ln for lo in before["logisticOrders"] for ln in lo["lines"]]
    new = [ln for lo in after["logisticOrders"] for ln in lo["lines"]]
    assert [ln["quantity"] for ln in new] == [1, 7, 1]
    assert new[0] == old[0] and new[2] == old[2]


def test_an_order_read_for_writing_and_left_alone_is_not_written(
    app: FastAPI, client: TestClient
) -> None:
    reference = _order_of_three_lines(client)
    version = get_order(client, reference)["version"]
    with _uow(app) as uow:
        _locked(uow, reference)
        uow.commit(Source.API)
    assert get_order(client, reference)["version"] == version


def test_a_line_removed_and_added_again_for_the_same_offer_price_in_one_write(
    app: FastAPI, client: TestClient
) -> None:
    # The new line takes the removed one's (logistic order, offer price), which is unique:
    # the DELETE must reach the database before the INSERT.
    reference = _order_of_three_lines(client)
    with _uow(app) as uow:
        order = _locked(uow, reference)
        old = order.lines[0]
        order.remove_line(old)
        again = OrderLine(
            variant_id=old.variant_id,
            variant_external_id=old.variant_external_id,
            offer_price_id=old.offer_price_id,
            offer_price_external_id=old.offer_price_external_id,
            quantity=4,
            variant_name=old.variant_name,
        )
        order.logistic_orders[0].lines.append(again)
        uow.commit(Source.API)
        assert again.id is not None and again.id != old.id
    lines = [ln for lo in get_order(client, reference)["logisticOrders"] for ln in lo["lines"]]
    assert {(ln["offerPriceExternalId"], ln["quantity"]) for ln in lines} == {
        ("OP-0001", 4),
        ("OP-0002", 1),
        ("OP-0003", 1),
    }


def test_a_write_over_a_version_it_did_not_read_is_stale_and_writes_nothing(
    app: FastAPI, client: TestClient
) -> None:
    reference = _order_of_three_lines(client)
    before = get_order(client, reference)
    with pytest.raises(StaleWrite), _uow(app) as uow:
        order = _locked(uow, reference)
        # As if another writer had moved the order after this one read it.
        (tracked,) = uow.orders.tracked
        tracked.stored[(Entity.ORDER, order.id)]["version"] -= 1
        order.lines[0].quantity = 9
        uow.commit(Source.API)
    assert get_order(client, reference) == before


def test_an_order_read_twice_for_writing_in_one_unit_of_work_is_one_object(
    app: FastAPI, client: TestClient
) -> None:
    reference = _order_of_three_lines(client)
    with _uow(app) as uow:
        first = _locked(uow, reference)
        first.lines[0].quantity = 5
        second = _locked(uow, reference)
        assert second is first
        assert second.lines[0].quantity == 5


def test_an_order_read_joined_or_apart_is_the_same_order(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past JOINED_UP_TO lines the logistic orders and the lines are read in two statements:
    # each line must still land in its own logistic order, in the same order.
    reference = create_order(client)
    lines = [{"id": f"OP-{i:04d}", "quantity": 1} for i in range(1, 8)]
    lines += [{"id": "OP-B", "quantity": 2}, {"id": "OP-SYNC-B", "quantity": 3}]
    lines += [{"id": "OP-CHOICE-C", "quantity": 1}]
    assert put_lines(client, reference, lines).status_code == 200

    def read(joined_up_to: int) -> tuple[int, dict[Any, dict[str, Any]]]:
        monkeypatch.setattr(order_rows, "JOINED_UP_TO", joined_up_to)
        with _uow(app) as uow:
            order = _locked(uow, reference)
            return len(order.logistic_orders), {
                key: {k: v for k, v in values.items() if k not in ("lines", "logistic_orders")}
                for key, values in snapshot(order).items()
            }

    los, joined = read(1_000)
    assert los == 3
    assert read(0) == (los, joined)
    with _uow(app) as uow:
        order = _locked(uow, reference)
        for lo in order.logistic_orders:
            assert {line.logistic_order_id for line in lo.lines} == {lo.id}
        assert len(order.lines) == len(lines)


def test_an_unlocked_read_apart_never_meets_lines_of_a_logistic_order_it_did_not_read(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip(
            "SQLite serialises a unit of work with every writer: no write lands between its reads"
        )
    # Unlocked, the logistic orders and the lines are two statements that may see two states
    # of the order. A writer that adds a supplier's logistic order between them moves the
    # order's version (which a later write checks); the read must just not break.
    reference = create_order(client)
    lines = [{"id": f"OP-{i:04d}", "quantity": 1} for i in range(1, order_rows.JOINED_UP_TO + 2)]
    assert put_lines(client, reference, lines).status_code == 200
    with _uow(app) as uow:
        order = uow.orders.get(reference)
        assert order is not None
        before = len(order.logistic_orders)
    read_lines_of = order_rows.one_of
    written = []

    def a_writer_commits_first(*args: Any) -> Any:
        if not written:  # the read under test; the writer's own read passes through
            written.append(True)
            response = put_lines(client, reference, [{"id": "OP-CHOICE-C", "quantity": 1}])
            assert response.status_code == 200
        return read_lines_of(*args)

    monkeypatch.setattr(order_rows, "one_of", a_writer_commits_first)
    with _uow(app) as uow:
        order = uow.orders.get(reference)
        assert order is not None
        assert written
        assert len(order.logistic_orders) == before
        assert len(order.lines) == len(lines)
    monkeypatch.undo()
    with _uow(app) as uow:
        order = uow.orders.get(reference)
        assert order is not None
        assert (len(order.logistic_orders), len(order.lines)) == (before + 1, len(lines) + 1)


@pytest.fixture
def lines_in_the_background(monkeypatch: pytest.MonkeyPatch, database_url: str) -> list[str]:
    """Every write of two lines or more sends their UPDATE in the background (PostgreSQL;
    SQLite's executemany ignores it): the names of the threads that ran it."""
    monkeypatch.setattr(order_rows, "OVERLAP_FROM_LINES", 2)
    threads: list[str] = []
    execute = bulk._execute

    def recorded(*args: Any) -> None:
        threads.append(threading.current_thread().name)
        execute(*args)

    monkeypatch.setattr(bulk, "_execute", recorded)
    return threads


def _expected_threads(database_url: str) -> int:
    return 0 if database_url.startswith("sqlite") else 1


def test_lines_updated_in_the_background_land_with_their_history(
    app: FastAPI, client: TestClient, lines_in_the_background: list[str], database_url: str
) -> None:
    reference = _order_of_three_lines(client)
    before = get_order(client, reference)
    with _uow(app) as uow:
        order = _locked(uow, reference)
        for line, quantity in zip(order.lines, (4, 5, 6), strict=True):
            line.quantity = quantity
        uow.commit(Source.API)
    assert len(lines_in_the_background) == _expected_threads(database_url)
    assert all(name != threading.current_thread().name for name in lines_in_the_background)
    after = get_order(client, reference)
    assert after["version"] == before["version"] + 1
    lines = [ln for lo in after["logisticOrders"] for ln in lo["lines"]]
    assert [ln["quantity"] for ln in lines] == [4, 5, 6]
    latest = entries(client, reference)[0]
    assert (latest["versionBefore"], latest["versionAfter"]) == (
        before["version"],
        after["version"],
    )
    quantities = [c["after"] for c in latest["changes"] if c["field"] == "quantity"]
    assert sorted(quantities) == [4, 5, 6]


def test_lines_updated_in_the_background_and_refused_leave_the_order_and_its_history(
    app: FastAPI, client: TestClient, lines_in_the_background: list[str], database_url: str
) -> None:
    # Two lines given the same external id: the unique index refuses the lines' UPDATE,
    # sent in the background while the history was worked out. The refusal reaches the
    # writer as usual, and nothing of the write lands.
    reference = _order_of_three_lines(client)
    before = get_order(client, reference)
    history = entries(client, reference)
    with pytest.raises(DuplicateValue), _uow(app) as uow:
        order = _locked(uow, reference)
        order.lines[0].external_id = order.lines[1].external_id = "SAME"
        order.lines[2].quantity = 8
        uow.commit(Source.API)
    assert len(lines_in_the_background) == _expected_threads(database_url)
    assert get_order(client, reference) == before
    assert entries(client, reference) == history
