"""Placing (validating) a draft order: PUT /v1/shop/commercial-orders/{reference}/created."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import create_order, get_order, headers, load, put_lines
from tests.bundle import catalog_bundle, special_offers

ONE = "/v1/shop/commercial-orders"


@pytest.fixture
def restore_catalog(client: TestClient) -> Iterator[None]:
    """For tests that change the shared catalog: reload its original offers and suppliers."""
    try:
        yield
    finally:
        load(client, {"suppliers": catalog_bundle()["suppliers"], "offers": special_offers()})


def place(client: TestClient, reference: str, **extra: str) -> Any:
    return client.put(f"{ONE}/{reference}/created", headers={**headers(), **extra})


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


def order_with(client: TestClient, lines: list[dict[str, Any]]) -> str:
    reference = create_order(client)
    response = put_lines(client, reference, lines)
    assert response.status_code == 200, response.text
    return reference


def test_placing_validates_the_order_and_creates_every_logistic_order(
    client: TestClient,
) -> None:
    reference = order_with(
        client, [{"id": "OP-TIER", "quantity": 5}, {"id": "OP-B", "quantity": 2}]
    )
    before = get_order(client, reference)
    started = datetime.now(UTC)

    response = place(client, reference)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reference"] == reference
    assert body["isValidated"] is True
    validated_at = datetime.fromisoformat(body["validatedAt"].replace("Z", "+00:00"))
    if validated_at.tzinfo is None:
        validated_at = validated_at.replace(tzinfo=UTC)
    assert abs((validated_at - started).total_seconds()) < 60
    assert len(body["logisticOrders"]) == 2
    assert {lo["status"] for lo in body["logisticOrders"]} == {"ORDER_CREATED"}
    assert body["version"] == before["version"] + 1
    assert response.headers["ETag"] == f'"{body["version"]}"'

    order = get_order(client, reference)
    assert order["isValidated"] is True
    assert order["validatedAt"] == body["validatedAt"]
    assert {lo["status"] for lo in order["logisticOrders"]} == {"ORDER_CREATED"}
    assert order["totalNet"] == before["totalNet"]
    assert order["lineCount"] == 2


def test_placing_twice_is_409(client: TestClient) -> None:
    reference = order_with(client, [{"id": "OP-TIER", "quantity": 5}])
    assert place(client, reference).status_code == 200
    placed = get_order(client, reference)
    assert_error(place(client, reference), 409, "ORDER_NOT_EDITABLE")
    assert get_order(client, reference) == placed


def test_lines_of_a_placed_order_cannot_change(client: TestClient) -> None:
    reference = order_with(client, [{"id": "OP-TIER", "quantity": 5}])
    assert place(client, reference).status_code == 200
    placed = get_order(client, reference)
    response = put_lines(client, reference, [{"id": "OP-TIER", "quantity": 6}])
    assert_error(response, 409, "ORDER_NOT_EDITABLE")
    assert get_order(client, reference) == placed


def test_an_empty_order_cannot_be_placed(client: TestClient) -> None:
    reference = create_order(client)
    assert_error(place(client, reference), 422, "ORDER_EMPTY")
    order = get_order(client, reference)
    assert order["isValidated"] is False
    assert order["version"] == 1


def test_an_order_out_of_line_with_the_catalog_cannot_be_placed(
    client: TestClient, restore_catalog: None
) -> None:
    reference = order_with(
        client, [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-TIER", "quantity": 1}]
    )
    before = get_order(client, reference)
    offer = next(o for o in special_offers() if o["externalId"] == "OFR-SYNC")
    offer["prices"][0]["tiers"] = [
        {"minQuantity": 1, "netUnitPrice": "3.50", "grossUnitPrice": "4.50"}
    ]
    load(client, {"offers": [offer]})

    body = assert_error(place(client, reference), 422, "ORDER_NOT_IN_SYNC")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("OP-SYNC", "PRICE_CHANGED")]
    after = get_order(client, reference)
    assert after == before
    assert after["isValidated"] is False
    assert {lo["status"] for lo in after["logisticOrders"]} == {"DRAFT_ORDER"}

    # Synchronised, it can be placed.
    sync = client.put(f"{ONE}/{reference}/sync", headers=headers())
    assert sync.status_code == 200, sync.text
    assert place(client, reference).status_code == 200


def test_an_order_with_an_inactive_supplier_cannot_be_placed(
    client: TestClient, restore_catalog: None
) -> None:
    reference = order_with(client, [{"id": "OP-B", "quantity": 1}])
    load(client, {"suppliers": [{"externalId": "SUP-B", "name": "Boltex", "status": "INACTIVE"}]})
    body = assert_error(place(client, reference), 422, "ORDER_NOT_IN_SYNC")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("OP-B", "SUPPLIER_INACTIVE")]
    assert get_order(client, reference)["isValidated"] is False


def test_placing_with_a_stale_if_match_is_412(client: TestClient) -> None:
    reference = order_with(client, [{"id": "OP-TIER", "quantity": 5}])
    assert_error(place(client, reference, **{"If-Match": '"1"'}), 412, "VERSION_MISMATCH")
    assert get_order(client, reference)["isValidated"] is False
    assert place(client, reference, **{"If-Match": '"2"'}).status_code == 200


def test_placing_an_unknown_reference_is_404(client: TestClient) -> None:
    assert_error(place(client, "000-000-0000000"), 404, "ORDER_NOT_FOUND")
