"""Synchronise (SPEC §3.2, ORDER-223, STANDARD mode) through the HTTP API.

Tests here change the shared catalog; the `catalog` fixture puts it back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import create_order, get_order, headers, load, put_lines
from tests.bundle import catalog_bundle, special_offers

ONE = "/v1/shop/commercial-orders"


class Catalog:
    """Changes to the shared test catalog, undone by the fixture."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def offer(self, external_id: str, stock: Any = ..., **price: Any) -> None:
        offer = next(o for o in special_offers() if o["externalId"] == external_id)
        if stock is not ...:
            offer["stock"] = stock
        offer["prices"][0].update(price)
        load(self.client, {"offers": [offer]})

    def supplier(self, external_id: str, status: str) -> None:
        supplier = next(s for s in catalog_bundle()["suppliers"] if s["externalId"] == external_id)
        load(self.client, {"suppliers": [{**supplier, "status": status}]})


@pytest.fixture
def catalog(client: TestClient) -> Iterator[Catalog]:
    try:
        yield Catalog(client)
    finally:
        load(client, {"suppliers": catalog_bundle()["suppliers"], "offers": special_offers()})


def tiers(net: str, gross: str) -> list[dict[str, Any]]:
    return [{"minQuantity": 1, "netUnitPrice": net, "grossUnitPrice": gross}]


def sync(client: TestClient, reference: str, **extra: str) -> Any:
    return client.put(f"{ONE}/{reference}/sync", headers={**headers(), **extra})


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


def lines_by_offer(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ln["offerPriceExternalId"]: ln for lo in order["logisticOrders"] for ln in lo["lines"]}


def order_with(client: TestClient, lines: list[dict[str, Any]]) -> str:
    reference = create_order(client)
    response = put_lines(client, reference, lines)
    assert response.status_code == 200, response.text
    assert response.json() == []
    return reference


def test_an_order_in_line_with_the_catalog_answers_204_and_keeps_its_version(
    client: TestClient,
) -> None:
    reference = order_with(
        client, [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-SYNC-B", "quantity": 5}]
    )
    before = get_order(client, reference)
    response = sync(client, reference)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert response.headers["ETag"] == f'"{before["version"]}"'
    assert get_order(client, reference) == before


def test_an_empty_order_answers_204(client: TestClient) -> None:
    reference = create_order(client)
    assert sync(client, reference).status_code == 204
    assert get_order(client, reference)["version"] == 1


def test_a_raised_price_is_applied_with_a_non_blocking_warning(
    client: TestClient, catalog: Catalog
) -> None:
    reference = order_with(
        client, [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-SYNC-B", "quantity": 5}]
    )
    before = get_order(client, reference)
    catalog.offer("OFR-SYNC", tiers=tiers("3.50", "4.50"))

    response = sync(client, reference)
    assert response.status_code == 200, response.text
    warnings = response.json()
    assert [(w["id"], w["code"], w["blocked"]) for w in warnings] == [
        ("OP-SYNC", "PRICE_CHANGED", False)
    ]
    assert warnings[0]["detail"]

    order = get_order(client, reference)
    assert order["version"] == before["version"] + 1
    assert response.headers["ETag"] == f'"{order["version"]}"'
    line = lines_by_offer(order)["OP-SYNC"]
    assert (line["netUnitPrice"], line["grossUnitPrice"]) == ("3.50", "4.50")
    assert (line["totalNet"], line["taxAmount"], line["totalGross"]) == ("35.00", "7.00", "42.00")
    assert lines_by_offer(order)["OP-SYNC-B"] == lines_by_offer(before)["OP-SYNC-B"]
    # 10 x 3.50 + 5 x 3.00, tax 20 %
    assert (order["totalNet"], order["totalTax"], order["totalGross"]) == (
        "50.00",
        "10.00",
        "60.00",
    )
    sup_a = next(lo for lo in order["logisticOrders"] if lo["supplierExternalId"] == "SUP-A")
    assert sup_a["totalNet"] == "35.00"
    # Once applied there is nothing left to do.
    assert sync(client, reference).status_code == 204


def test_a_lowered_stock_bounds_the_quantity(client: TestClient, catalog: Catalog) -> None:
    reference = order_with(client, [{"id": "OP-SYNC", "quantity": 100}])
    before = get_order(client, reference)
    catalog.offer("OFR-SYNC", stock=40)

    response = sync(client, reference)
    assert response.status_code == 200, response.text
    assert [(w["id"], w["code"], w["blocked"]) for w in response.json()] == [
        ("OP-SYNC", "QUANTITY_ADJUSTED_STOCK", False)
    ]
    order = get_order(client, reference)
    assert lines_by_offer(order)["OP-SYNC"]["quantity"] == 40
    assert (order["productCount"], order["totalNet"]) == (40, "120.00")
    assert order["version"] == before["version"] + 1


def _assert_blocked_and_untouched(
    client: TestClient, reference: str, before: dict[str, Any], blocking: tuple[str, str]
) -> None:
    response = sync(client, reference)
    assert response.status_code == 200, response.text
    warnings = response.json()
    assert (*blocking, True) in [(w["id"], w["code"], w["blocked"]) for w in warnings]
    after = get_order(client, reference)
    assert after == before
    assert lines_by_offer(after)["OP-SYNC"]["netUnitPrice"] == "3.00"


BLOCKING_CHANGES = {
    "supplier inactive": (lambda c: c.supplier("SUP-B", "INACTIVE"), "SUPPLIER_INACTIVE"),
    "out of stock": (lambda c: c.offer("OFR-SYNC-B", stock=0), "OUT_OF_STOCK"),
    "no longer open to the account": (
        lambda c: c.offer("OFR-SYNC-B", accounts=["ACC-2"]),
        "LINE_NOT_ELIGIBLE",
    ),
}


@pytest.mark.parametrize("cause", list(BLOCKING_CHANGES))
def test_a_blocking_cause_on_one_line_blocks_the_whole_synchronisation(
    client: TestClient, catalog: Catalog, cause: str
) -> None:
    change, code = BLOCKING_CHANGES[cause]
    reference = order_with(
        client, [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-SYNC-B", "quantity": 5}]
    )
    before = get_order(client, reference)
    catalog.offer("OFR-SYNC", tiers=tiers("3.50", "4.50"))
    change(catalog)
    _assert_blocked_and_untouched(client, reference, before, ("OP-SYNC-B", code))


def test_a_blocked_synchronisation_leaves_the_catalog_free_to_recover(
    client: TestClient, catalog: Catalog
) -> None:
    reference = order_with(
        client, [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-SYNC-B", "quantity": 5}]
    )
    catalog.offer("OFR-SYNC", tiers=tiers("3.50", "4.50"))
    catalog.supplier("SUP-B", "INACTIVE")
    assert sync(client, reference).status_code == 200
    catalog.supplier("SUP-B", "ACTIVE")

    response = sync(client, reference)
    assert response.status_code == 200, response.text
    assert [(w["id"], w["code"]) for w in response.json()] == [("OP-SYNC", "PRICE_CHANGED")]
    assert lines_by_offer(get_order(client, reference))["OP-SYNC"]["netUnitPrice"] == "3.50"


def test_a_stale_if_match_is_412(client: TestClient, catalog: Catalog) -> None:
    reference = order_with(client, [{"id": "OP-SYNC", "quantity": 10}])
    catalog.offer("OFR-SYNC", tiers=tiers("3.50", "4.50"))
    assert_error(sync(client, reference, **{"If-Match": '"1"'}), 412, "VERSION_MISMATCH")
    assert lines_by_offer(get_order(client, reference))["OP-SYNC"]["netUnitPrice"] == "3.00"


def test_a_placed_order_is_409(client: TestClient) -> None:
    reference = order_with(client, [{"id": "OP-SYNC", "quantity": 10}])
    assert client.put(f"{ONE}/{reference}/created", headers=headers()).status_code == 200
    assert_error(sync(client, reference), 409, "ORDER_NOT_EDITABLE")


def test_a_cart_based_order_is_409(client: TestClient) -> None:
    load(
        client,
        {
            "orders": [
                {
                    "externalId": "ORD-CART-SYNC",
                    "account": "ACC-1",
                    "user": "U-1",
                    "checkoutType": "CART_BASED",
                    "lines": [{"offerPrice": "OP-0001", "quantity": 1}],
                }
            ]
        },
    )
    found = client.get(f"{ONE}/ORD-CART-SYNC?idType=EXTERNAL_ID", headers=headers())
    assert found.status_code == 200, found.text
    assert_error(sync(client, found.json()["reference"]), 409, "ORDER_NOT_ORDER_BASED")


def test_an_unknown_reference_is_404(client: TestClient) -> None:
    assert_error(sync(client, "000-000-0000000"), 404, "ORDER_NOT_FOUND")


def test_real_time_pricing_without_a_pricing_system_blocks_every_line(
    client: TestClient,
) -> None:
    reference = order_with(
        client, [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-SYNC-B", "quantity": 5}]
    )
    before = get_order(client, reference)
    load(client, {"settings": {"pricingMode": "RTP"}})
    try:
        response = sync(client, reference)
    finally:
        load(client, {"settings": {"pricingMode": "STANDARD"}})
    assert response.status_code == 200, response.text
    assert sorted((w["id"], w["code"], w["blocked"]) for w in response.json()) == [
        ("OP-SYNC", "PRICING_UNAVAILABLE", True),
        ("OP-SYNC-B", "PRICING_UNAVAILABLE", True),
    ]
    assert get_order(client, reference) == before
