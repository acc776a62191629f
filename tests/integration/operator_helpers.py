"""Helpers shared by the back-office order tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.api import create_order, headers, put_lines
from tests.bundle import KEY_1, KEY_OPS

COMMERCIAL = "/v1/operator/commercial-orders"
LOGISTIC = "/v1/operator/logistic-orders"

LIFECYCLE = [
    "DRAFT_ORDER",
    "DRAFT_ORDER_ON_HOLD",
    "ORDER_CREATED",
    "WAITING_CUSTOMER_APPROVAL",
    "WAITING_SUPPLIER_APPROVAL",
    "ACCEPTED_BY_SUPPLIER",
    "WAITING_SHIPMENT",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "COMPLETED",
]
NON_FINAL = LIFECYCLE[:-1]
SIDE_EXITS = ["DECLINED_BY_CUSTOMER", "DECLINED_BY_SUPPLIER", "CANCELED"]
FINAL = ["COMPLETED", *SIDE_EXITS]

ADDRESS = {
    "externalId": "ADDR-DOCK",
    "fullName": "Receiving Dock 4",
    "streetName": "12 quai de Seine",
    "city": "Rouen",
    "zipCode": "76000",
    "country": "FR",
}


def ops(**extra: str) -> dict[str, str]:
    return headers(KEY_OPS, "OPERATOR", **extra)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "errors"}
    assert (body["status"], body["code"]) == (status, code)
    return body


def any_order(client: TestClient, reference: str) -> dict[str, Any]:
    response = client.get(f"{COMMERCIAL}/{reference}", headers=ops())
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def order_with(client: TestClient, lines: list[str], key: str = KEY_1) -> str:
    reference = create_order(client, key)
    response = put_lines(client, reference, [{"id": i, "quantity": 2} for i in lines], key=key)
    assert response.status_code == 200, response.text
    return reference


def logistic_refs(client: TestClient, reference: str) -> dict[str, str]:
    """Logistic order references of a commercial order, by supplier external id."""
    return {
        lo["supplierExternalId"]: lo["reference"]
        for lo in any_order(client, reference)["logisticOrders"]
    }


def a_logistic_order(client: TestClient, offer_price: str = "OP-TIER", key: str = KEY_1) -> str:
    """A draft order of one line; its single logistic order's reference."""
    (reference,) = logistic_refs(client, order_with(client, [offer_price], key)).values()
    return reference


def owner(lo_reference: str) -> str:
    return lo_reference.rsplit("-", 1)[0]


def logistic(client: TestClient, lo_reference: str) -> dict[str, Any]:
    order = any_order(client, owner(lo_reference))
    return next(lo for lo in order["logisticOrders"] if lo["reference"] == lo_reference)


def patch(client: TestClient, lo_reference: str, body: Any, **extra: str) -> Any:
    return client.patch(f"{LOGISTIC}/{lo_reference}", json=body, headers=ops(**extra))


def move(client: TestClient, lo_reference: str, status: str) -> dict[str, Any]:
    response = patch(client, lo_reference, {"status": status})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def in_status(client: TestClient, status: str, offer_price: str = "OP-TIER") -> str:
    reference = a_logistic_order(client, offer_price)
    if status != "DRAFT_ORDER":
        move(client, reference, status)
    return reference


def list_page(client: TestClient, params: Any = None) -> dict[str, Any]:
    response = client.get(LOGISTIC, params=params, headers=ops())
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def listed(client: TestClient, params: Any = None) -> list[str]:
    return [item["reference"] for item in list_page(client, params)["content"]]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
