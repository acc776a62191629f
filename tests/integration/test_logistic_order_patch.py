"""PATCH /v1/operator/logistic-orders/{reference}: status, externalId, address."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import get_order, headers, put_lines
from tests.bundle import KEY_1, KEY_2, KEY_SUPPLIER
from tests.integration.operator_helpers import (
    ADDRESS,
    LIFECYCLE,
    LOGISTIC,
    NON_FINAL,
    a_logistic_order,
    any_order,
    assert_error,
    in_status,
    list_page,
    logistic,
    move,
    ops,
    owner,
    patch,
)

# --- PATCH status -------------------------------------------------------------------------


def test_status_moves_forward_and_may_skip_ahead(client: TestClient) -> None:
    reference = a_logistic_order(client)

    body = move(client, reference, "ORDER_CREATED")
    assert (body["reference"], body["status"]) == (reference, "ORDER_CREATED")
    assert body["lines"][0]["offerPriceExternalId"] == "OP-TIER"
    assert logistic(client, reference)["status"] == "ORDER_CREATED"

    assert move(client, reference, "WAITING_SHIPMENT")["status"] == "WAITING_SHIPMENT"
    assert logistic(client, reference)["status"] == "WAITING_SHIPMENT"


def test_status_walks_the_whole_lifecycle_one_step_at_a_time(client: TestClient) -> None:
    reference = a_logistic_order(client)
    for status in LIFECYCLE[1:]:
        assert move(client, reference, status)["status"] == status
    assert logistic(client, reference)["status"] == "COMPLETED"


def test_the_csv_spelling_order_draft_on_hold_is_accepted(client: TestClient) -> None:
    reference = a_logistic_order(client)
    assert move(client, reference, "ORDER_DRAFT_ON_HOLD")["status"] == "DRAFT_ORDER_ON_HOLD"
    assert logistic(client, reference)["status"] == "DRAFT_ORDER_ON_HOLD"
    assert move(client, reference, "ORDER_CREATED")["status"] == "ORDER_CREATED"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("ORDER_CREATED", "DRAFT_ORDER"),
        ("DRAFT_ORDER_ON_HOLD", "DRAFT_ORDER"),
        ("WAITING_SHIPMENT", "ORDER_CREATED"),
        ("WAITING_SHIPMENT", "ORDER_DRAFT_ON_HOLD"),
        ("SHIPPED", "PARTIALLY_SHIPPED"),
    ],
)
def test_moving_backwards_is_422_and_changes_nothing(
    client: TestClient, current: str, target: str
) -> None:
    reference = in_status(client, current)
    before = any_order(client, owner(reference))

    body = assert_error(
        patch(client, reference, {"status": target}), 422, "STATUS_TRANSITION_NOT_ALLOWED"
    )

    assert current in body["message"]
    assert body["errors"][0]["field"] == "status"
    assert any_order(client, owner(reference)) == before


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("COMPLETED", "CANCELED"),
        ("COMPLETED", "SHIPPED"),
        ("CANCELED", "COMPLETED"),
        ("CANCELED", "DRAFT_ORDER"),
        ("DECLINED_BY_SUPPLIER", "ORDER_CREATED"),
        ("DECLINED_BY_CUSTOMER", "CANCELED"),
    ],
)
def test_leaving_a_final_status_is_422_status_final(
    client: TestClient, current: str, target: str
) -> None:
    reference = in_status(client, current)
    before = any_order(client, owner(reference))
    body = assert_error(patch(client, reference, {"status": target}), 422, "STATUS_FINAL")
    assert current in body["message"]
    assert any_order(client, owner(reference)) == before


@pytest.mark.parametrize("current", NON_FINAL)
def test_canceling_is_allowed_from_any_non_final_status(client: TestClient, current: str) -> None:
    reference = in_status(client, current)
    assert move(client, reference, "CANCELED")["status"] == "CANCELED"
    assert logistic(client, reference)["status"] == "CANCELED"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("WAITING_CUSTOMER_APPROVAL", "DECLINED_BY_CUSTOMER"),
        ("WAITING_SUPPLIER_APPROVAL", "DECLINED_BY_SUPPLIER"),
        ("DRAFT_ORDER", "DECLINED_BY_SUPPLIER"),
    ],
)
def test_declining_is_a_side_exit(client: TestClient, current: str, target: str) -> None:
    reference = in_status(client, current)
    assert move(client, reference, target)["status"] == target


@pytest.mark.parametrize("status", ["SHIPPING", "draft-order", "ORDER_CREATED; DROP", " "])
def test_an_unknown_status_is_422_status_unknown(client: TestClient, status: str) -> None:
    reference = a_logistic_order(client)
    before = any_order(client, owner(reference))
    body = assert_error(patch(client, reference, {"status": status}), 422, "STATUS_UNKNOWN")
    assert body["errors"][0]["field"] == "status"
    assert any_order(client, owner(reference)) == before


def test_repeating_the_current_status_changes_nothing(client: TestClient) -> None:
    reference = in_status(client, "ORDER_CREATED")
    before = any_order(client, owner(reference))
    response = patch(client, reference, {"status": "ORDER_CREATED"})
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{before["version"]}"'
    assert any_order(client, owner(reference)) == before


def test_leaving_the_draft_statuses_closes_the_order_to_shop_edits(client: TestClient) -> None:
    reference = a_logistic_order(client)
    order_reference = owner(reference)
    move(client, reference, "ORDER_CREATED")

    response = put_lines(client, order_reference, [{"id": "OP-TIER", "quantity": 9}])
    assert_error(response, 409, "ORDER_NOT_EDITABLE")
    deleted = client.request(
        "DELETE",
        f"/v2/shop/commercial-orders/{order_reference}/lines",
        json=[{"offerPriceId": "OP-TIER"}],
        headers=headers(),
    )
    assert_error(deleted, 409, "ORDER_NOT_EDITABLE")
    order = get_order(client, order_reference)
    assert order["logisticOrders"][0]["lines"][0]["quantity"] == 2
    assert order["logisticOrders"][0]["status"] == "ORDER_CREATED"


# --- PATCH externalId ---------------------------------------------------------------------


def test_the_external_id_is_set_once(client: TestClient) -> None:
    reference = a_logistic_order(client)

    response = patch(client, reference, {"externalId": "ERP-1001"})

    assert response.status_code == 200, response.text
    assert response.json()["externalId"] == "ERP-1001"
    assert logistic(client, reference)["externalId"] == "ERP-1001"
    assert [i["externalId"] for i in list_page(client)["content"]] == ["ERP-1001"]


def test_setting_the_same_external_id_again_is_harmless(client: TestClient) -> None:
    reference = a_logistic_order(client)
    assert patch(client, reference, {"externalId": "ERP-1001"}).status_code == 200
    before = any_order(client, owner(reference))
    response = patch(client, reference, {"externalId": "ERP-1001"})
    assert response.status_code == 200, response.text
    assert any_order(client, owner(reference)) == before


def test_changing_a_set_external_id_is_409(client: TestClient) -> None:
    reference = a_logistic_order(client)
    assert patch(client, reference, {"externalId": "ERP-1001"}).status_code == 200
    before = any_order(client, owner(reference))

    body = assert_error(
        patch(client, reference, {"externalId": "ERP-2002"}), 409, "EXTERNAL_ID_ALREADY_SET"
    )

    assert "ERP-1001" in body["message"]
    assert any_order(client, owner(reference)) == before


def test_an_external_id_held_by_another_logistic_order_is_409(client: TestClient) -> None:
    holder = a_logistic_order(client)
    other = a_logistic_order(client, "OP-0001", KEY_2)
    assert patch(client, holder, {"externalId": "ERP-1001"}).status_code == 200
    before = any_order(client, owner(other))

    body = assert_error(patch(client, other, {"externalId": "ERP-1001"}), 409, "EXTERNAL_ID_TAKEN")

    assert "ERP-1001" in body["message"]
    assert any_order(client, owner(other)) == before
    assert logistic(client, holder)["externalId"] == "ERP-1001"


def test_racing_for_one_external_id_gives_it_to_exactly_one_logistic_order(
    client: TestClient,
) -> None:
    contenders = [a_logistic_order(client) for _ in range(12)]

    def claim(reference: str) -> tuple[int, str | None]:
        response = patch(client, reference, {"externalId": "ERP-RACE"})
        return response.status_code, response.json().get("code")

    with ThreadPoolExecutor(max_workers=len(contenders)) as pool:
        outcomes = list(pool.map(claim, contenders))

    assert sorted(outcomes, key=str) == [(200, None)] + [(409, "EXTERNAL_ID_TAKEN")] * 11
    holders = [i for i in list_page(client, {"size": 100})["content"] if i["externalId"]]
    assert len(holders) == 1


def test_an_external_id_can_be_set_in_a_final_status(client: TestClient) -> None:
    # The status table governs lines, address and status; the externalId rule is "once".
    reference = in_status(client, "COMPLETED")
    assert patch(client, reference, {"externalId": "ERP-LATE"}).status_code == 200
    assert logistic(client, reference)["externalId"] == "ERP-LATE"


# --- PATCH shippingAddress ----------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        "DRAFT_ORDER",
        "DRAFT_ORDER_ON_HOLD",
        "ORDER_CREATED",
        "WAITING_CUSTOMER_APPROVAL",
        "WAITING_SUPPLIER_APPROVAL",
        "ACCEPTED_BY_SUPPLIER",
        "WAITING_SHIPMENT",
    ],
)
def test_the_shipping_address_changes_where_the_status_table_allows(
    client: TestClient, status: str
) -> None:
    reference = in_status(client, status)

    response = patch(client, reference, {"shippingAddress": ADDRESS})

    assert response.status_code == 200, response.text
    for field, value in ADDRESS.items():
        assert response.json()["shippingAddress"][field] == value
        assert logistic(client, reference)["shippingAddress"][field] == value
    assert logistic(client, reference)["status"] == status


@pytest.mark.parametrize(
    "status", ["PARTIALLY_SHIPPED", "SHIPPED", "COMPLETED", "CANCELED", "DECLINED_BY_SUPPLIER"]
)
def test_the_shipping_address_is_refused_once_shipping_started_or_final(
    client: TestClient, status: str
) -> None:
    reference = in_status(client, status)
    before = any_order(client, owner(reference))

    body = assert_error(
        patch(client, reference, {"shippingAddress": ADDRESS}), 422, "FIELD_NOT_EDITABLE_IN_STATUS"
    )

    assert status in body["message"]
    assert body["errors"][0]["field"] == "shippingAddress"
    assert any_order(client, owner(reference)) == before


def test_an_incomplete_shipping_address_is_422(client: TestClient) -> None:
    reference = a_logistic_order(client)
    before = any_order(client, owner(reference))
    incomplete = {k: v for k, v in ADDRESS.items() if k != "city"}
    body = assert_error(
        patch(client, reference, {"shippingAddress": incomplete}), 422, "INVALID_REQUEST"
    )
    assert [e["field"] for e in body["errors"]] == ["shippingAddress.city"]
    assert any_order(client, owner(reference)) == before


def test_a_patch_is_applied_whole_or_not_at_all(client: TestClient) -> None:
    reference = in_status(client, "SHIPPED")
    before = any_order(client, owner(reference))
    response = patch(
        client,
        reference,
        {"externalId": "ERP-1", "status": "COMPLETED", "shippingAddress": ADDRESS},
    )
    assert_error(response, 422, "FIELD_NOT_EDITABLE_IN_STATUS")
    assert any_order(client, owner(reference)) == before

    backwards = patch(client, reference, {"externalId": "ERP-1", "status": "ORDER_CREATED"})
    assert_error(backwards, 422, "STATUS_TRANSITION_NOT_ALLOWED")
    assert any_order(client, owner(reference)) == before


def test_several_fields_change_in_one_patch(client: TestClient) -> None:
    reference = a_logistic_order(client)
    version = any_order(client, owner(reference))["version"]
    response = patch(
        client,
        reference,
        {"status": "ORDER_CREATED", "externalId": "ERP-9", "shippingAddress": ADDRESS},
    )
    assert response.status_code == 200, response.text
    lo = logistic(client, reference)
    assert (lo["status"], lo["externalId"], lo["shippingAddress"]["city"]) == (
        "ORDER_CREATED",
        "ERP-9",
        "Rouen",
    )
    assert any_order(client, owner(reference))["version"] == version + 1


# --- versions and If-Match ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{"status": "ORDER_CREATED"}, {"externalId": "ERP-7"}, {"shippingAddress": ADDRESS}],
    ids=["status", "externalId", "shippingAddress"],
)
def test_each_change_bumps_the_owning_orders_version(client: TestClient, body: Any) -> None:
    reference = a_logistic_order(client)
    before = any_order(client, owner(reference))["version"]

    response = patch(client, reference, body)

    assert response.status_code == 200, response.text
    after = any_order(client, owner(reference))["version"]
    assert after == before + 1
    assert response.headers["ETag"] == f'"{after}"'
    assert get_order(client, owner(reference))["version"] == after


def test_if_match_with_the_current_version_is_accepted(client: TestClient) -> None:
    reference = a_logistic_order(client)
    version = any_order(client, owner(reference))["version"]
    response = patch(client, reference, {"status": "ORDER_CREATED"}, if_match=f'"{version}"')
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{version + 1}"'


def test_a_stale_if_match_is_412_and_nothing_changes(client: TestClient) -> None:
    reference = a_logistic_order(client)
    stale = any_order(client, owner(reference))["version"]
    move(client, reference, "DRAFT_ORDER_ON_HOLD")
    before = any_order(client, owner(reference))

    response = patch(
        client,
        reference,
        {"status": "ORDER_CREATED", "externalId": "ERP-3"},
        if_match=f'"{stale}"',
    )

    assert_error(response, 412, "VERSION_MISMATCH")
    assert any_order(client, owner(reference)) == before


# --- bad requests and the wrong callers ---------------------------------------------------


@pytest.mark.parametrize("reference", ["999-999-9999999-1", "999-999-9999999"])
def test_an_unknown_logistic_order_is_404(client: TestClient, reference: str) -> None:
    body = assert_error(
        patch(client, reference, {"status": "ORDER_CREATED"}), 404, "LOGISTIC_ORDER_NOT_FOUND"
    )
    assert reference in body["message"]


def test_a_commercial_order_reference_is_not_a_logistic_order(client: TestClient) -> None:
    reference = a_logistic_order(client)
    response = patch(client, owner(reference), {"status": "ORDER_CREATED"})
    assert_error(response, 404, "LOGISTIC_ORDER_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": 5}, "status"),
        ({"externalId": []}, "externalId"),
        ({"externalId": ""}, "externalId"),
        ({"externalId": 42}, "externalId"),
        ({"shippingAddress": "Paris"}, "shippingAddress"),
        ([], "body"),
        ("ORDER_CREATED", "body"),
    ],
)
def test_wrong_types_are_422(client: TestClient, body: Any, field: str) -> None:
    reference = a_logistic_order(client)
    before = any_order(client, owner(reference))
    error = assert_error(patch(client, reference, body), 422, "INVALID_REQUEST")
    assert any(e["field"] == field for e in error["errors"]), error
    assert any_order(client, owner(reference)) == before


def test_malformed_json_is_422(client: TestClient) -> None:
    reference = a_logistic_order(client)
    response = client.patch(
        f"{LOGISTIC}/{reference}",
        content='{"status": "ORDER_CREATED"',
        headers={**ops(), "content-type": "application/json"},
    )
    assert_error(response, 422, "MALFORMED_JSON")


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_a_huge_body_is_413_and_nothing_changes(client: TestClient, streamed: bool) -> None:
    reference = a_logistic_order(client)
    before = any_order(client, owner(reference))
    payload = json.dumps({"status": "ORDER_CREATED", "externalId": "x" * 300_000}).encode()
    chunks = [payload[i : i + 10_000] for i in range(0, len(payload), 10_000)]
    response = client.patch(
        f"{LOGISTIC}/{reference}",
        content=iter(chunks) if streamed else payload,
        headers={**ops(), "content-type": "application/json"},
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert any_order(client, owner(reference)) == before


@pytest.mark.parametrize(("key", "client_type"), [(KEY_1, "ACCOUNT"), (KEY_SUPPLIER, "SUPPLIER")])
def test_account_and_supplier_clients_cannot_patch(
    client: TestClient, key: str, client_type: str
) -> None:
    reference = a_logistic_order(client)
    before = any_order(client, owner(reference))
    response = client.patch(
        f"{LOGISTIC}/{reference}", json={"status": "CANCELED"}, headers=headers(key, client_type)
    )
    assert_error(response, 403, "CLIENT_TYPE_FORBIDDEN")
    assert any_order(client, owner(reference)) == before
