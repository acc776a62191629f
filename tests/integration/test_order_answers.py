"""The shop's GET answers an order from one query's rows, the operator's GET from the loaded
aggregate: both must say exactly the same, whatever the order holds."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api import create_order, headers, put_lines
from tests.bundle import KEY_OPS

OPS = headers(KEY_OPS, "OPERATOR")


def both(client: TestClient, reference: str) -> tuple[object, object]:
    shop = client.get(f"/v1/shop/commercial-orders/{reference}", headers=headers())
    operator = client.get(f"/v1/operator/commercial-orders/{reference}", headers=OPS)
    assert shop.status_code == operator.status_code == 200, (shop.text, operator.text)
    assert shop.headers["ETag"] == operator.headers["ETag"]
    return shop.json(), operator.json()


def test_an_empty_order_reads_the_same_both_ways(client: TestClient) -> None:
    reference = create_order(
        client, customFields=[{"customFieldId": "CF-PO", "customFieldValue": "PO-1"}]
    )
    shop, operator = both(client, reference)
    assert shop == operator


def test_an_order_of_two_suppliers_with_fine_prices_reads_the_same_both_ways(
    client: TestClient,
) -> None:
    reference = create_order(client)
    response = put_lines(
        client,
        reference,
        [
            {"id": "OP-TIER", "quantity": 150},
            {"id": "OP-B", "quantity": 3},
            {"id": "OP-STEP", "quantity": 15},
            {
                "id": "OP-SYNC",
                "quantity": 7,
                "customFields": [
                    {"customFieldId": "CF-NOTE", "customFieldValue": "Gate <3>"},
                    {"customFieldId": "CF-URGENT", "customFieldValue": True},
                ],
            },
        ],
    )
    assert response.status_code == 200, response.text
    shop, operator = both(client, reference)
    assert shop == operator
    assert len(shop["logisticOrders"]) == 2  # type: ignore[index]


def test_a_placed_order_reads_the_same_both_ways(client: TestClient) -> None:
    reference = create_order(client)
    assert put_lines(client, reference, [{"id": "OP-TIER", "quantity": 2}]).status_code == 200
    placed = client.put(f"/v1/shop/commercial-orders/{reference}/created", headers=headers())
    assert placed.status_code == 200, placed.text
    shop, operator = both(client, reference)
    assert shop == operator == placed.json()
