"""GET /v1/operator/commercial-orders/{reference}: any order, operators only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api import get_order, headers
from tests.bundle import KEY_1, KEY_2, KEY_SUPPLIER
from tests.integration.operator_helpers import (
    COMMERCIAL,
    any_order,
    assert_error,
    ops,
    order_with,
)

# --- GET /v1/operator/commercial-orders/{reference} ---------------------------------------


@pytest.mark.parametrize("key", [KEY_1, KEY_2], ids=["ACC-1", "ACC-2"])
def test_an_operator_reads_any_accounts_order_with_its_lines(client: TestClient, key: str) -> None:
    reference = order_with(client, ["OP-TIER", "OP-B"], key)

    response = client.get(f"{COMMERCIAL}/{reference}", headers=ops())

    assert response.status_code == 200, response.text
    order = response.json()
    assert order == get_order(client, reference, key)
    assert response.headers["ETag"] == f'"{order["version"]}"'
    assert sorted(lo["supplierExternalId"] for lo in order["logisticOrders"]) == ["SUP-A", "SUP-B"]
    assert sorted(
        ln["offerPriceExternalId"] for lo in order["logisticOrders"] for ln in lo["lines"]
    ) == ["OP-B", "OP-TIER"]


def test_an_operator_reads_orders_of_every_store(client: TestClient) -> None:
    response = client.post(
        "/v2/shop/commercial-orders", json={}, headers=headers(KEY_1, dj_store="S2")
    )
    assert response.status_code == 201, response.text
    reference = response.json()["reference"]
    assert any_order(client, reference)["reference"] == reference


def test_an_unknown_commercial_order_is_404(client: TestClient) -> None:
    response = client.get(f"{COMMERCIAL}/999-999-9999999", headers=ops())
    assert_error(response, 404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize(("key", "client_type"), [(KEY_1, "ACCOUNT"), (KEY_SUPPLIER, "SUPPLIER")])
def test_account_and_supplier_clients_cannot_read_operator_orders(
    client: TestClient, key: str, client_type: str
) -> None:
    reference = order_with(client, ["OP-TIER"])
    response = client.get(f"{COMMERCIAL}/{reference}", headers=headers(key, client_type))
    body = assert_error(response, 403, "CLIENT_TYPE_FORBIDDEN")
    assert "logisticOrders" not in body
