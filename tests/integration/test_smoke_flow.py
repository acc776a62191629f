"""The main flow end to end through the HTTP app: create, add lines, sync, place."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api import create_order, get_order, headers, put_lines


def test_create_add_lines_sync_and_place(client: TestClient) -> None:
    reference = create_order(client)
    response = put_lines(
        client, reference, [{"id": "OP-TIER", "quantity": 120}, {"id": "OP-B", "quantity": 2}]
    )
    assert response.status_code == 200, response.text
    assert response.json() == []
    order = get_order(client, reference)
    assert order["lineCount"] == 2
    assert order["totalNet"] == "130.00"  # 120 x 1.00 (tier 100+) + 2 x 5.00
    assert order["totalTax"] == "26.00"
    assert order["totalGross"] == "156.00"
    assert sorted(lo["supplierExternalId"] for lo in order["logisticOrders"]) == ["SUP-A", "SUP-B"]
    sync = client.put(f"/v1/shop/commercial-orders/{reference}/sync", headers=headers())
    assert sync.status_code == 204
    placed = client.put(f"/v1/shop/commercial-orders/{reference}/created", headers=headers())
    assert placed.status_code == 200, placed.text
    assert placed.json()["isValidated"] is True
    assert {lo["status"] for lo in placed.json()["logisticOrders"]} == {"ORDER_CREATED"}
