"""Update lines (SPEC §3.1, ORDER-150) through the HTTP API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api import create_order, get_order, headers, load, put_lines
from tests.bundle import KEY_1, KEY_2

ONE = "/v1/shop/commercial-orders"


def put(
    client: TestClient,
    reference: str,
    lines: list[dict[str, Any]],
    *,
    key: str = KEY_1,
    extra: dict[str, str] | None = None,
    **body: Any,
) -> Any:
    return client.put(
        f"/v2/shop/commercial-orders/{reference}/lines",
        json={"updateOrderCommercialLines": lines, **body},
        headers={**headers(key), **(extra or {})},
    )


def ok(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    warnings: list[dict[str, Any]] = response.json()
    return warnings


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


def lines_by_offer(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ln["offerPriceExternalId"]: ln for lo in order["logisticOrders"] for ln in lo["lines"]}


def quantities(order: dict[str, Any]) -> dict[str, int]:
    return {k: ln["quantity"] for k, ln in lines_by_offer(order).items()}


def codes(warnings: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(w["id"], w["code"]) for w in warnings]


# --- actions --------------------------------------------------------------------------------


def test_replace_quantity_adds_a_line_not_on_the_order(client: TestClient) -> None:
    reference = create_order(client)
    assert ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 5}])) == []
    line = lines_by_offer(get_order(client, reference))["OP-TIER"]
    assert line["quantity"] == 5
    assert line["variantExternalId"] == "V-TIER"
    assert line["variantName"] == "Item V-TIER"
    assert line["variantDescription"] == "Description of V-TIER"
    assert line["classificationExternalId"] == "CLS-1"


def test_replace_quantity_sets_the_quantity(client: TestClient) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 5}]))
    ok(
        put_lines(
            client,
            reference,
            [{"id": "OP-TIER", "quantity": 7, "updateAction": "REPLACE_QUANTITY"}],
        )
    )
    assert quantities(get_order(client, reference)) == {"OP-TIER": 7}


def test_add_quantity_adds_to_the_line(client: TestClient) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 5}]))
    ok(
        put_lines(
            client, reference, [{"id": "OP-TIER", "quantity": 3, "updateAction": "ADD_QUANTITY"}]
        )
    )
    assert quantities(get_order(client, reference)) == {"OP-TIER": 8}


def test_add_quantity_of_a_line_not_on_the_order_adds_it(client: TestClient) -> None:
    reference = create_order(client)
    ok(
        put_lines(
            client, reference, [{"id": "OP-TIER", "quantity": 4, "updateAction": "ADD_QUANTITY"}]
        )
    )
    assert quantities(get_order(client, reference)) == {"OP-TIER": 4}


def test_remove_quantity_lowers_the_line(client: TestClient) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 10}]))
    ok(
        put_lines(
            client,
            reference,
            [{"id": "OP-TIER", "quantity": 4, "updateAction": "REMOVE_QUANTITY"}],
        )
    )
    assert quantities(get_order(client, reference)) == {"OP-TIER": 6}


def test_remove_quantity_past_zero_removes_the_line(client: TestClient) -> None:
    reference = create_order(client)
    ok(
        put_lines(
            client, reference, [{"id": "OP-TIER", "quantity": 10}, {"id": "OP-B", "quantity": 1}]
        )
    )
    ok(
        put_lines(
            client,
            reference,
            [{"id": "OP-TIER", "quantity": 25, "updateAction": "REMOVE_QUANTITY"}],
        )
    )
    order = get_order(client, reference)
    assert quantities(order) == {"OP-B": 1}
    assert order["lineCount"] == 1


def test_replace_with_zero_removes_the_line(client: TestClient) -> None:
    reference = create_order(client)
    ok(
        put_lines(
            client, reference, [{"id": "OP-TIER", "quantity": 10}, {"id": "OP-B", "quantity": 1}]
        )
    )
    ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 0}]))
    assert quantities(get_order(client, reference)) == {"OP-B": 1}


# --- quantity adjustments (OP-STEP: min 10, step 10, max 100, stock 55) ---------------------


@pytest.mark.parametrize(
    ("requested", "expected", "warning_codes"),
    [
        (3, 10, ["QUANTITY_ADJUSTED_MIN"]),
        (15, 20, ["QUANTITY_ADJUSTED_STEP"]),
        (45, 50, ["QUANTITY_ADJUSTED_STEP"]),
        (55, 50, ["QUANTITY_ADJUSTED_STEP", "QUANTITY_ADJUSTED_STOCK"]),
        (150, 50, ["QUANTITY_ADJUSTED_MAX", "QUANTITY_ADJUSTED_STOCK"]),
        (40, 40, []),
    ],
)
def test_quantities_are_bounded_with_non_blocking_warnings(
    client: TestClient, requested: int, expected: int, warning_codes: list[str]
) -> None:
    reference = create_order(client)
    warnings = ok(put_lines(client, reference, [{"id": "OP-STEP", "quantity": requested}]))
    assert [w["code"] for w in warnings] == warning_codes
    assert all(w["id"] == "OP-STEP" and w["blocked"] is False and w["detail"] for w in warnings)
    assert quantities(get_order(client, reference)) == {"OP-STEP": expected}


def test_an_added_quantity_is_bounded_too(client: TestClient) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-STEP", "quantity": 40}]))
    warnings = ok(
        put_lines(
            client, reference, [{"id": "OP-STEP", "quantity": 30, "updateAction": "ADD_QUANTITY"}]
        )
    )
    assert codes(warnings) == [("OP-STEP", "QUANTITY_ADJUSTED_STOCK")]
    assert quantities(get_order(client, reference)) == {"OP-STEP": 50}


# --- eligibility ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer_price", "key", "extra", "code"),
    [
        ("OP-INACTIVE-SUP", KEY_1, {}, "SUPPLIER_INACTIVE"),
        ("OP-RESTRICTED", KEY_1, {}, "LINE_NOT_ELIGIBLE"),
        ("OP-GOLD", KEY_2, {}, "LINE_NOT_ELIGIBLE"),
        ("OP-EXPIRED", KEY_1, {}, "LINE_NOT_ELIGIBLE"),
        ("OP-NOSTOCK", KEY_1, {}, "OUT_OF_STOCK"),
        ("OP-HIDDEN", KEY_1, {"dj-store-view": "SV-LIMITED"}, "VARIANT_NOT_VISIBLE"),
        ("OP-DOES-NOT-EXIST", KEY_1, {}, "OFFER_NOT_FOUND"),
    ],
)
def test_an_ineligible_line_is_skipped_while_the_others_apply(
    client: TestClient, offer_price: str, key: str, extra: dict[str, str], code: str
) -> None:
    reference = create_order(client, key=key)
    response = put(
        client,
        reference,
        [{"id": offer_price, "quantity": 2}, {"id": "OP-TIER", "quantity": 3}],
        key=key,
        extra=extra,
    )
    warnings = ok(response)
    assert len(warnings) == 1
    assert (warnings[0]["id"], warnings[0]["code"], warnings[0]["blocked"]) == (
        offer_price,
        code,
        False,
    )
    assert quantities(get_order(client, reference, key=key)) == {"OP-TIER": 3}


@pytest.mark.parametrize(("offer_price", "key"), [("OP-RESTRICTED", KEY_2), ("OP-GOLD", KEY_1)])
def test_a_restricted_offer_price_is_open_to_its_accounts(
    client: TestClient, offer_price: str, key: str
) -> None:
    reference = create_order(client, key=key)
    assert ok(put_lines(client, reference, [{"id": offer_price, "quantity": 2}], key=key)) == []
    assert quantities(get_order(client, reference, key=key)) == {offer_price: 2}


def test_a_hidden_variant_is_orderable_in_a_store_view_that_shows_it(
    client: TestClient,
) -> None:
    reference = create_order(client)
    assert (
        ok(
            put(
                client,
                reference,
                [{"id": "OP-HIDDEN", "quantity": 1}],
                extra={"dj-store-view": "SV-ALL"},
            )
        )
        == []
    )
    assert quantities(get_order(client, reference)) == {"OP-HIDDEN": 1}


def test_when_no_line_is_eligible_the_request_is_422_and_nothing_changes(
    client: TestClient,
) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 3}]))
    before = get_order(client, reference)

    response = put_lines(
        client,
        reference,
        [
            {"id": "OP-INACTIVE-SUP", "quantity": 1},
            {"id": "OP-EXPIRED", "quantity": 1},
            {"id": "OP-NOSTOCK", "quantity": 1},
            {"id": "OP-NOPE", "quantity": 1},
        ],
    )
    body = assert_error(response, 422, "NO_ELIGIBLE_LINE")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("OP-INACTIVE-SUP", "SUPPLIER_INACTIVE"),
        ("OP-EXPIRED", "LINE_NOT_ELIGIBLE"),
        ("OP-NOSTOCK", "OUT_OF_STOCK"),
        ("OP-NOPE", "OFFER_NOT_FOUND"),
    ]
    after = get_order(client, reference)
    assert after["version"] == before["version"]
    assert after == before


def test_a_refused_first_update_leaves_a_new_order_empty(client: TestClient) -> None:
    reference = create_order(client)
    assert_error(
        put_lines(client, reference, [{"id": "OP-RESTRICTED", "quantity": 1}]),
        422,
        "NO_ELIGIBLE_LINE",
    )
    order = get_order(client, reference)
    assert order["logisticOrders"] == []
    assert order["version"] == 1


# --- VARIANT lines --------------------------------------------------------------------------


def test_a_variant_line_picks_the_cheapest_offer_ties_broken_by_supplier(
    client: TestClient,
) -> None:
    reference = create_order(client)
    assert (
        ok(put_lines(client, reference, [{"id": "V-CHOICE", "quantity": 10}], lineType="VARIANT"))
        == []
    )
    order = get_order(client, reference)
    assert quantities(order) == {"OP-CHOICE-A": 10}  # 9.00 at SUP-A ties SUP-C; SUP-A wins
    assert order["logisticOrders"][0]["supplierExternalId"] == "SUP-A"
    assert lines_by_offer(order)["OP-CHOICE-A"]["netUnitPrice"] == "9.00"


def test_a_variant_line_picks_the_cheapest_tier_at_that_quantity(client: TestClient) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "V-CHOICE", "quantity": 60}], lineType="VARIANT"))
    order = get_order(client, reference)
    assert quantities(order) == {"OP-CHOICE-B": 60}  # 8.00 from 50 units at SUP-B
    assert order["logisticOrders"][0]["supplierExternalId"] == "SUP-B"
    assert order["totalNet"] == "480.00"


def test_a_variant_with_no_offer_is_skipped_with_its_variant_id(client: TestClient) -> None:
    reference = create_order(client)
    warnings = ok(
        put_lines(
            client,
            reference,
            [{"id": "V-NOPE", "quantity": 1}, {"id": "V-TIER", "quantity": 2}],
            lineType="VARIANT",
        )
    )
    assert codes(warnings) == [("V-NOPE", "OFFER_NOT_FOUND")]
    assert quantities(get_order(client, reference)) == {"OP-TIER": 2}


# --- operation orders -----------------------------------------------------------------------


def test_a_partial_operation_order_applies_the_operation_bounds_to_its_variants(
    client: TestClient,
) -> None:
    reference = create_order(client, sourceType="OPERATION", sourceId="OPN-PUB", isFull=False)
    warnings = ok(
        put_lines(
            client,
            reference,
            [
                {"id": "OP-OPN-1", "quantity": 5},
                {"id": "OP-OPN-2", "quantity": 50},
                {"id": "OP-TIER", "quantity": 5},
            ],
        )
    )
    assert [(w["id"], w["code"], w["blocked"]) for w in warnings] == [
        ("OP-OPN-1", "QUANTITY_ADJUSTED_MIN", False),
        ("OP-OPN-2", "QUANTITY_ADJUSTED_MAX", False),
    ]
    assert quantities(get_order(client, reference)) == {
        "OP-OPN-1": 20,
        "OP-OPN-2": 10,
        "OP-TIER": 5,
    }


def test_operation_bounds_do_not_apply_to_a_standard_order(client: TestClient) -> None:
    reference = create_order(client)
    assert ok(put_lines(client, reference, [{"id": "OP-OPN-1", "quantity": 5}])) == []
    assert quantities(get_order(client, reference)) == {"OP-OPN-1": 5}


# --- custom fields --------------------------------------------------------------------------


def test_line_custom_fields_are_stored(client: TestClient) -> None:
    reference = create_order(client)
    ok(
        put_lines(
            client,
            reference,
            [
                {
                    "id": "OP-TIER",
                    "quantity": 1,
                    "customFields": [
                        {"customFieldId": "CF-NOTE", "customFieldValue": "Deliver to dock 4"},
                        {"customFieldId": "CF-URGENT", "customFieldValue": True},
                    ],
                }
            ],
        )
    )
    line = lines_by_offer(get_order(client, reference))["OP-TIER"]
    assert line["customFields"] == {"CF-NOTE": "Deliver to dock 4", "CF-URGENT": True}


def test_line_custom_fields_by_djust_id(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        field_id = conn.execute(
            text("SELECT id FROM custom_fields WHERE external_id = 'CF-NOTE'")
        ).scalar_one()
    reference = create_order(client)
    ok(
        put_lines(
            client,
            reference,
            [
                {
                    "id": "OP-TIER",
                    "quantity": 1,
                    "customFields": [
                        {"customFieldId": str(field_id), "customFieldValue": "by id"}
                    ],
                }
            ],
            customFieldIdType="DJUST_ID",
        )
    )
    line = lines_by_offer(get_order(client, reference))["OP-TIER"]
    assert line["customFields"] == {"CF-NOTE": "by id"}


def test_an_unknown_line_custom_field_is_422_and_nothing_changes(client: TestClient) -> None:
    reference = create_order(client)
    response = put_lines(
        client,
        reference,
        [
            {
                "id": "OP-TIER",
                "quantity": 1,
                "customFields": [{"customFieldId": "CF-NOPE", "customFieldValue": "x"}],
            }
        ],
    )
    body = assert_error(response, 422, "CUSTOM_FIELD_UNKNOWN")
    assert body["errors"][0]["field"] == "updateOrderCommercialLines[0].customFields.CF-NOPE"
    assert get_order(client, reference)["version"] == 1


def test_an_order_custom_field_on_a_line_is_unknown(client: TestClient) -> None:
    reference = create_order(client)
    response = put_lines(
        client,
        reference,
        [
            {
                "id": "OP-TIER",
                "quantity": 1,
                "customFields": [{"customFieldId": "CF-PO", "customFieldValue": "x"}],
            }
        ],
    )
    assert_error(response, 422, "CUSTOM_FIELD_UNKNOWN")


def test_a_line_custom_field_of_the_wrong_type_is_422(client: TestClient) -> None:
    reference = create_order(client)
    response = put_lines(
        client,
        reference,
        [
            {
                "id": "OP-TIER",
                "quantity": 1,
                "customFields": [{"customFieldId": "CF-URGENT", "customFieldValue": "yes"}],
            }
        ],
    )
    assert_error(response, 422, "CUSTOM_FIELD_INVALID")


# --- request limits -------------------------------------------------------------------------


def test_the_same_id_twice_is_422(client: TestClient) -> None:
    reference = create_order(client)
    response = put_lines(
        client, reference, [{"id": "OP-TIER", "quantity": 1}, {"id": "OP-TIER", "quantity": 2}]
    )
    body = assert_error(response, 422, "DUPLICATE_LINE_ID")
    assert body["errors"][0]["field"] == "updateOrderCommercialLines[1].id"
    assert get_order(client, reference)["logisticOrders"] == []


def test_more_than_500_updates_is_422(client: TestClient) -> None:
    reference = create_order(client)
    lines = [{"id": f"OP-{i:04d}", "quantity": 1} for i in range(1, 502)]
    assert_error(put_lines(client, reference, lines), 422, "TOO_MANY_LINE_UPDATES")
    assert get_order(client, reference)["logisticOrders"] == []


def test_an_order_holds_at_most_1000_lines(client: TestClient) -> None:
    reference = create_order(client)
    for start in (1, 501):
        lines = [{"id": f"OP-{i:04d}", "quantity": 1} for i in range(start, start + 500)]
        assert ok(put_lines(client, reference, lines)) == []
    full = get_order(client, reference)
    assert full["lineCount"] == 1000

    response = put_lines(client, reference, [{"id": "OP-1001", "quantity": 1}])
    assert_error(response, 422, "TOO_MANY_LINES")
    after = get_order(client, reference)
    assert after["lineCount"] == 1000
    assert after["version"] == full["version"]
    # Lines already on the order can still change.
    assert ok(put_lines(client, reference, [{"id": "OP-0001", "quantity": 2}])) == []
    assert get_order(client, reference)["productCount"] == 1001


def test_adding_past_the_largest_line_quantity_is_422_and_changes_nothing(
    client: TestClient,
) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-0001", "quantity": 1_000_000_000}]))
    before = get_order(client, reference)
    response = put_lines(
        client, reference, [{"id": "OP-0001", "quantity": 1, "updateAction": "ADD_QUANTITY"}]
    )
    assert_error(response, 422, "INVALID_REQUEST")
    assert get_order(client, reference) == before


def test_an_order_past_the_largest_product_count_is_422_and_changes_nothing(
    client: TestClient,
) -> None:
    # Each line is within bounds; their sum is not (the product count is a 32-bit integer).
    reference = create_order(client)
    ok(
        put_lines(
            client,
            reference,
            [
                {"id": "OP-0001", "quantity": 1_000_000_000},
                {"id": "OP-0002", "quantity": 1_000_000_000},
            ],
        )
    )
    before = get_order(client, reference)
    assert before["productCount"] == 2_000_000_000
    response = put_lines(client, reference, [{"id": "OP-0003", "quantity": 1_000_000_000}])
    assert_error(response, 422, "INVALID_REQUEST")
    assert get_order(client, reference) == before


# --- logistic orders and totals -------------------------------------------------------------


def test_lines_are_grouped_in_one_logistic_order_per_supplier(client: TestClient) -> None:
    reference = create_order(client)
    ok(
        put_lines(
            client,
            reference,
            [
                {"id": "OP-TIER", "quantity": 1},
                {"id": "OP-B", "quantity": 1},
                {"id": "OP-STEP", "quantity": 10},
            ],
        )
    )
    order = get_order(client, reference)
    by_supplier = {lo["supplierExternalId"]: lo for lo in order["logisticOrders"]}
    assert set(by_supplier) == {"SUP-A", "SUP-B"}
    assert sorted(ln["offerPriceExternalId"] for ln in by_supplier["SUP-A"]["lines"]) == [
        "OP-STEP",
        "OP-TIER",
    ]
    assert [ln["offerPriceExternalId"] for ln in by_supplier["SUP-B"]["lines"]] == ["OP-B"]
    assert sorted(lo["reference"] for lo in order["logisticOrders"]) == [
        f"{reference}-1",
        f"{reference}-2",
    ]
    assert {lo["status"] for lo in order["logisticOrders"]} == {"DRAFT_ORDER"}
    assert by_supplier["SUP-A"]["shippingAddress"]["city"] == "Paris"


def test_a_suppliers_logistic_order_goes_with_its_last_line(client: TestClient) -> None:
    reference = create_order(client)
    ok(
        put_lines(
            client, reference, [{"id": "OP-TIER", "quantity": 1}, {"id": "OP-B", "quantity": 1}]
        )
    )
    ok(
        put_lines(
            client, reference, [{"id": "OP-B", "quantity": 1, "updateAction": "REMOVE_QUANTITY"}]
        )
    )
    order = get_order(client, reference)
    assert [lo["supplierExternalId"] for lo in order["logisticOrders"]] == ["SUP-A"]


def test_totals_are_computed_on_lines_logistic_orders_and_the_order(client: TestClient) -> None:
    reference = create_order(client)
    ok(
        put_lines(
            client,
            reference,
            [
                {"id": "OP-TIER", "quantity": 120},
                {"id": "OP-B", "quantity": 2},
                {"id": "OP-STEP", "quantity": 20},
            ],
        )
    )
    order = get_order(client, reference)
    tier = lines_by_offer(order)["OP-TIER"]
    assert (tier["netUnitPrice"], tier["grossUnitPrice"], tier["taxRate"]) == (
        "1.00",
        "1.50",
        "20",
    )
    assert (tier["totalNet"], tier["taxAmount"], tier["totalTax"], tier["totalGross"]) == (
        "120.00",
        "24.00",
        "24.00",
        "144.00",
    )
    by_supplier = {lo["supplierExternalId"]: lo for lo in order["logisticOrders"]}
    # SUP-A: 120 x 1.00 + 20 x 2.00
    assert (
        by_supplier["SUP-A"]["totalNet"],
        by_supplier["SUP-A"]["totalTax"],
        by_supplier["SUP-A"]["totalGross"],
    ) == ("160.00", "32.00", "192.00")
    assert (
        by_supplier["SUP-B"]["totalNet"],
        by_supplier["SUP-B"]["totalTax"],
        by_supplier["SUP-B"]["totalGross"],
    ) == ("10.00", "2.00", "12.00")
    assert (order["totalNet"], order["totalTax"], order["totalGross"]) == (
        "170.00",
        "34.00",
        "204.00",
    )
    assert (order["lineCount"], order["productCount"]) == (3, 142)


def test_a_tier_price_follows_the_quantity(client: TestClient) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 99}]))
    assert lines_by_offer(get_order(client, reference))["OP-TIER"]["netUnitPrice"] == "1.20"
    ok(
        put_lines(
            client, reference, [{"id": "OP-TIER", "quantity": 1, "updateAction": "ADD_QUANTITY"}]
        )
    )
    order = get_order(client, reference)
    assert lines_by_offer(order)["OP-TIER"]["netUnitPrice"] == "1.00"
    assert order["totalNet"] == "100.00"


# --- versions -------------------------------------------------------------------------------


def test_each_write_bumps_the_version_and_the_etag_follows(client: TestClient) -> None:
    reference = create_order(client)
    assert get_order(client, reference)["version"] == 1
    for expected in (2, 3, 4):
        response = put_lines(client, reference, [{"id": "OP-TIER", "quantity": expected}])
        ok(response)
        assert response.headers["ETag"] == f'"{expected}"'
        got = client.get(f"{ONE}/{reference}", headers=headers())
        assert got.json()["version"] == expected
        assert got.headers["ETag"] == f'"{expected}"'


def test_if_match_with_the_current_version_is_applied(client: TestClient) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 1}]))
    response = put(
        client, reference, [{"id": "OP-TIER", "quantity": 9}], extra={"If-Match": '"2"'}
    )
    ok(response)
    assert response.headers["ETag"] == '"3"'
    assert quantities(get_order(client, reference)) == {"OP-TIER": 9}


def test_a_stale_if_match_is_412_and_changes_nothing(client: TestClient) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 1}]))
    before = get_order(client, reference)
    response = put(
        client, reference, [{"id": "OP-TIER", "quantity": 9}], extra={"If-Match": '"1"'}
    )
    assert_error(response, 412, "VERSION_MISMATCH")
    assert get_order(client, reference) == before


# --- orders that cannot change --------------------------------------------------------------


def test_a_placed_order_is_409(client: TestClient) -> None:
    reference = create_order(client)
    ok(put_lines(client, reference, [{"id": "OP-TIER", "quantity": 1}]))
    placed = client.put(f"{ONE}/{reference}/created", headers=headers())
    assert placed.status_code == 200, placed.text
    response = put_lines(client, reference, [{"id": "OP-TIER", "quantity": 2}])
    assert_error(response, 409, "ORDER_NOT_EDITABLE")
    assert quantities(get_order(client, reference)) == {"OP-TIER": 1}


def test_a_cart_based_order_is_409(client: TestClient) -> None:
    load(
        client,
        {
            "orders": [
                {
                    "externalId": "ORD-CART-LINES",
                    "account": "ACC-1",
                    "user": "U-1",
                    "checkoutType": "CART_BASED",
                    "lines": [{"offerPrice": "OP-0001", "quantity": 1}],
                }
            ]
        },
    )
    found = client.get(f"{ONE}/ORD-CART-LINES?idType=EXTERNAL_ID", headers=headers())
    assert found.status_code == 200, found.text
    reference = found.json()["reference"]
    assert found.json()["checkoutType"] == "CART_BASED"

    response = put_lines(client, reference, [{"id": "OP-0001", "quantity": 2}])
    assert_error(response, 409, "ORDER_NOT_ORDER_BASED")
    assert quantities(get_order(client, reference)) == {"OP-0001": 1}


def test_an_unknown_reference_is_404(client: TestClient) -> None:
    response = put_lines(client, "000-000-0000000", [{"id": "OP-TIER", "quantity": 1}])
    assert_error(response, 404, "ORDER_NOT_FOUND")
