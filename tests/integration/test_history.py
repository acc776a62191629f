"""Order history (SPEC §7): every write path leaves one entry with its source, actor,
versions and field changes; a refused write or one that changes nothing leaves none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from ordersync.adapters.db.tables import order_history
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.api.app import create_app
from ordersync.settings import Settings
from tests.api import create_order, get_order, headers, load, put_lines
from tests.bundle import KEY_1, KEY_2, KEY_OPS
from tests.integration.imports.helpers import SyncDispatcher
from tests.simulator_servers import cpq_simulator

OPS = headers(KEY_OPS, "OPERATOR")


def shop_history(client: TestClient, reference: str, key: str = KEY_1, **params: Any) -> Any:
    return client.get(
        f"/v1/shop/commercial-orders/{reference}/history", params=params, headers=headers(key)
    )


def entries(client: TestClient, reference: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/operator/commercial-orders/{reference}/history", params=params, headers=OPS
    )
    assert response.status_code == 200, response.text
    content: list[dict[str, Any]] = response.json()["content"]
    return content


def fields(entry: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(c["entity"], c["field"]) for c in entry["changes"]}


@pytest.fixture
def order_with_line(client: TestClient) -> str:
    reference = create_order(client)
    assert put_lines(client, reference, [{"id": "OP-TIER", "quantity": 5}]).status_code == 200
    return reference


def test_creating_and_filling_an_order_are_two_api_entries_newest_first(
    client: TestClient, order_with_line: str
) -> None:
    history = entries(client, order_with_line)
    assert [e["source"] for e in history] == ["API", "API"]
    latest, created = history
    assert (created["versionBefore"], created["versionAfter"]) == (0, 1)
    assert ("ORDER", None) in fields(created)
    assert (latest["versionBefore"], latest["versionAfter"]) == (1, 2)
    assert latest["actor"] == {"userExternalId": "U-1", "clientType": "ACCOUNT"}
    assert latest["requestId"]
    added = [c for c in latest["changes"] if c["entity"] == "LINE" and c["field"] is None]
    assert added and added[0]["after"]["offerPriceExternalId"] == "OP-TIER"
    assert ("ORDER", "total_net") in fields(latest)


def test_a_quantity_change_records_before_and_after(
    client: TestClient, order_with_line: str
) -> None:
    assert (
        put_lines(client, order_with_line, [{"id": "OP-TIER", "quantity": 7}]).status_code == 200
    )
    change = next(
        c for c in entries(client, order_with_line)[0]["changes"] if c["field"] == "quantity"
    )
    assert (change["entity"], change["before"], change["after"]) == ("LINE", 5, 7)


def test_deleting_a_line_is_one_removal(client: TestClient, order_with_line: str) -> None:
    response = client.request(
        "DELETE",
        f"/v2/shop/commercial-orders/{order_with_line}/lines",
        json=[{"offerPriceId": "OP-TIER"}],
        headers=headers(),
    )
    assert response.status_code == 204
    latest = entries(client, order_with_line)[0]
    removed = [c for c in latest["changes"] if c["field"] is None]
    assert {c["entity"] for c in removed} == {"LINE", "LOGISTIC_ORDER"}
    assert all(c["after"] is None for c in removed)


def test_a_synchronise_that_changes_prices_is_a_sync_entry(
    client: TestClient, order_with_line: str
) -> None:
    with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql(
            "UPDATE order_lines SET net_unit_price = '0.50' WHERE offer_price_external_id = "
            "'OP-TIER'"
        )
        # As every writer does (the serving process keeps orders' rows by version).
        conn.exec_driver_sql("UPDATE commercial_orders SET version = version + 1")
    response = client.put(f"/v1/shop/commercial-orders/{order_with_line}/sync", headers=headers())
    assert response.status_code == 200, response.text
    latest = entries(client, order_with_line)[0]
    assert latest["source"] == "SYNC"
    assert ("LINE", "net_unit_price") in fields(latest)


def test_changes_are_stored_as_arrays_and_older_objects_still_read(
    client: TestClient, order_with_line: str
) -> None:
    """An entry's changes are stored as `[entity, id, field, before, after]`; entries
    written before that form, as objects with those keys, read the same."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        order_id, stored = conn.execute(
            select(order_history.c.order_id, order_history.c.changes)
            .order_by(order_history.c.id.desc())
            .limit(1)
        ).one()
        entity, _, field, before, after = stored[-1]  # the line the fixture added
        assert (entity, field, before) == ("LINE", None, None)
        assert after["offerPriceExternalId"] == "OP-TIER"
        old = {"entity": "LINE", "id": 7, "field": "quantity", "before": 1, "after": 2}
        conn.execute(
            insert(order_history).values(
                order_id=order_id,
                at=datetime(2026, 11, 1, tzinfo=UTC),
                source="API",
                version_before=2,
                version_after=3,
                changes=[old],
            )
        )
    latest, previous = entries(client, order_with_line)[:2]
    assert latest["changes"] == [old]
    added = previous["changes"][-1]
    assert (added["entity"], added["field"], added["before"]) == ("LINE", None, None)


def test_a_synchronise_with_nothing_to_change_leaves_no_entry(
    client: TestClient, order_with_line: str
) -> None:
    before = len(entries(client, order_with_line))
    response = client.put(f"/v1/shop/commercial-orders/{order_with_line}/sync", headers=headers())
    assert response.status_code == 204
    assert len(entries(client, order_with_line)) == before


def test_placing_records_the_statuses(client: TestClient, order_with_line: str) -> None:
    response = client.put(
        f"/v1/shop/commercial-orders/{order_with_line}/created", headers=headers()
    )
    assert response.status_code == 200, response.text
    latest = entries(client, order_with_line)[0]
    assert latest["source"] == "API"
    status = next(c for c in latest["changes"] if c["field"] == "status")
    assert (status["before"], status["after"]) == ("DRAFT_ORDER", "ORDER_CREATED")
    assert ("ORDER", "is_validated") in fields(latest)


def test_an_operator_patch_is_an_operator_patch_entry(
    client: TestClient, order_with_line: str
) -> None:
    lo = get_order(client, order_with_line)["logisticOrders"][0]["reference"]
    response = client.patch(
        f"/v1/operator/logistic-orders/{lo}", json={"externalId": "ERP-HIST-1"}, headers=OPS
    )
    assert response.status_code == 200, response.text
    latest = entries(client, order_with_line)[0]
    assert latest["source"] == "OPERATOR_PATCH"
    assert latest["actor"]["clientType"] == "OPERATOR"
    assert ("LOGISTIC_ORDER", "external_id") in fields(latest)


def test_refused_writes_leave_no_entry(client: TestClient, order_with_line: str) -> None:
    before = len(entries(client, order_with_line))
    assert (
        put_lines(client, order_with_line, [{"id": "OP-NOSTOCK", "quantity": 1}]).status_code
        == 422
    )
    stale = client.put(
        f"/v2/shop/commercial-orders/{order_with_line}/lines",
        json={"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 9}]},
        headers={**headers(), "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert len(entries(client, order_with_line)) == before


def test_an_import_row_is_an_import_entry_with_its_job_and_line(
    client: TestClient, order_with_line: str
) -> None:
    app = client.app
    app.state.dispatcher = SyncDispatcher(lambda: UnitOfWork(app.state.session_factory))  # type: ignore[attr-defined]
    line = get_order(client, order_with_line)["logisticOrders"][0]["lines"][0]
    lo = get_order(client, order_with_line)["logisticOrders"][0]["reference"]
    body = f"Order Reference,Order Line Id,Order Line Quantity\r\n{lo},{line['id']},11\r\n"
    response = client.post(
        "/v1/operator/import-jobs",
        headers=OPS,
        files={"file": ("h.csv", body.encode(), "text/csv")},
        data={"type": "INTERNAL_ORDER_UPDATE"},
    )
    assert response.status_code == 202, response.text
    latest = entries(client, order_with_line)[0]
    assert latest["source"] == "IMPORT"
    assert (latest["jobId"], latest["lineNumber"]) == (response.json()["jobId"], 2)
    assert latest["actor"] == {"userExternalId": "U-OPS", "clientType": "OPERATOR"}
    change = next(c for c in latest["changes"] if c["field"] == "quantity")
    assert (change["before"], change["after"]) == (5, 11)


def test_a_dry_run_import_leaves_no_entry(client: TestClient, order_with_line: str) -> None:
    app = client.app
    app.state.dispatcher = SyncDispatcher(lambda: UnitOfWork(app.state.session_factory))  # type: ignore[attr-defined]
    before = len(entries(client, order_with_line))
    line = get_order(client, order_with_line)["logisticOrders"][0]["lines"][0]
    lo = get_order(client, order_with_line)["logisticOrders"][0]["reference"]
    body = f"Order Reference,Order Line Id,Order Line Quantity\r\n{lo},{line['id']},12\r\n"
    response = client.post(
        "/v1/operator/import-jobs",
        headers=OPS,
        files={"file": ("h.csv", body.encode(), "text/csv")},
        data={"type": "INTERNAL_ORDER_UPDATE", "dryRun": "true"},
    )
    assert response.status_code == 202
    assert len(entries(client, order_with_line)) == before


@pytest.fixture
def cpq_url(client: TestClient) -> Iterator[str]:
    with cpq_simulator() as cpq:
        load(client, {"settings": {"cpqUrl": cpq.base_url}})
        try:
            yield cpq.base_url
        finally:
            load(client, {"settings": {"cpqUrl": None}})


def test_a_cpq_push_is_a_cpq_entry(client: TestClient, order_with_line: str, cpq_url: str) -> None:
    response = client.post(
        f"/v1/shop/commercial-orders/{order_with_line}/actions/synchronize", headers=headers()
    )
    assert response.status_code == 200, response.text
    latest = entries(client, order_with_line)[0]
    assert latest["source"] == "CPQ"
    assert {("ORDER", "cpq_transaction_id"), ("LINE", "cpq_txn_line_number")} <= fields(latest)


def test_a_bundle_order_is_a_bundle_entry(client: TestClient) -> None:
    bundle = {
        "orders": [
            {
                "externalId": "ORD-HIST-BUNDLE",
                "account": "ACC-1",
                "user": "U-1",
                "lines": [{"offerPrice": "OP-TIER", "quantity": 3}],
            }
        ]
    }
    load(client, bundle)
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        reference = conn.exec_driver_sql(
            "SELECT reference FROM commercial_orders WHERE external_id = 'ORD-HIST-BUNDLE'"
        ).scalar_one()
    (entry,) = entries(client, reference)
    assert entry["source"] == "BUNDLE"
    assert entry["actor"]["clientType"] == "OPERATOR"


def test_the_shop_reads_its_own_orders_history_only(
    client: TestClient, order_with_line: str
) -> None:
    mine = shop_history(client, order_with_line)
    assert mine.status_code == 200
    assert mine.json()["totalElements"] == 2
    assert shop_history(client, order_with_line, KEY_2).status_code == 404
    assert shop_history(client, "000-000-0000000").status_code == 404


def test_history_pages_and_filters_by_source(client: TestClient, order_with_line: str) -> None:
    for quantity in (6, 7, 8):
        assert (
            put_lines(
                client, order_with_line, [{"id": "OP-TIER", "quantity": quantity}]
            ).status_code
            == 200
        )
    page = shop_history(client, order_with_line, size=2, page=1).json()
    assert (page["totalElements"], page["totalPages"], len(page["content"])) == (5, 3, 2)
    assert shop_history(client, order_with_line, source="SYNC").json()["totalElements"] == 0
    assert shop_history(client, order_with_line, source="NOPE").status_code == 422


def test_with_history_off_writes_and_imports_record_nothing(
    client: TestClient, order_with_line: str, database_url: str
) -> None:
    app = create_app(Settings(database_url=database_url, history_enabled=False))
    before = len(entries(client, order_with_line))
    with TestClient(app) as quiet:
        app.state.dispatcher = SyncDispatcher(app.state.uow_factory)
        assert put_lines(quiet, order_with_line, [{"id": "OP-TIER", "quantity": 6}]).status_code
        order = get_order(quiet, order_with_line)
        line = order["logisticOrders"][0]["lines"][0]
        lo = order["logisticOrders"][0]["reference"]
        body = f"Order Reference,Order Line Id,Order Line Quantity\r\n{lo},{line['id']},13\r\n"
        response = quiet.post(
            "/v1/operator/import-jobs",
            headers=OPS,
            files={"file": ("h.csv", body.encode(), "text/csv")},
            data={"type": "INTERNAL_ORDER_UPDATE"},
        )
        assert response.status_code == 202, response.text
        assert get_order(quiet, order_with_line)["logisticOrders"][0]["lines"][0]["quantity"] == 13
    assert len(entries(client, order_with_line)) == before  # the writes landed, no entry
