"""Creating a draft commercial order and reading it back (SPEC §3)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api import create_order, get_order, headers, load
from tests.bundle import KEY_1, KEY_2

ORDERS = "/v2/shop/commercial-orders"
ONE = "/v1/shop/commercial-orders"


def post_order(client: TestClient, body: dict[str, Any], key: str = KEY_1) -> Any:
    return client.post(ORDERS, json=body, headers=headers(key))


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


def lines_of(order: dict[str, Any]) -> dict[str, int]:
    return {
        ln["variantExternalId"]: ln["quantity"]
        for lo in order["logisticOrders"]
        for ln in lo["lines"]
    }


def test_create_answers_201_with_id_reference_and_etag(client: TestClient) -> None:
    response = post_order(client, {})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "reference"}
    assert isinstance(body["id"], int)
    assert re.fullmatch(r"\d{3}-\d{3}-\d{7}", body["reference"])

    order = get_order(client, body["reference"])
    assert response.headers["ETag"] == f'"{order["version"]}"'
    assert order["id"] == body["id"]


def test_a_new_order_is_an_empty_order_based_draft(client: TestClient) -> None:
    reference = create_order(client)
    response = client.get(f"{ONE}/{reference}", headers=headers())
    assert response.status_code == 200
    order = response.json()
    assert response.headers["ETag"] == f'"{order["version"]}"'
    assert order["reference"] == reference
    assert order["isValidated"] is False
    assert order["validatedAt"] is None
    assert order["checkoutType"] == "ORDER_BASED"
    assert order["sourceType"] is None
    assert order["currency"] == "EUR"
    assert order["logisticOrders"] == []
    assert (order["lineCount"], order["productCount"]) == (0, 0)
    assert (order["totalNet"], order["totalTax"], order["totalGross"]) == ("0.00",) * 3


def test_two_orders_get_different_references(client: TestClient) -> None:
    assert create_order(client) != create_order(client)


def test_get_by_reference_is_the_default_id_type(client: TestClient) -> None:
    reference = create_order(client)
    response = client.get(f"{ONE}/{reference}?idType=REFERENCE", headers=headers())
    assert response.status_code == 200
    assert response.json()["reference"] == reference


def test_get_by_djust_id(client: TestClient) -> None:
    created = post_order(client, {}).json()
    response = client.get(f"{ONE}/{created['id']}?idType=DJUST_ID", headers=headers())
    assert response.status_code == 200, response.text
    assert response.json()["reference"] == created["reference"]


def test_get_by_djust_id_that_is_not_a_number_is_404(client: TestClient) -> None:
    response = client.get(f"{ONE}/not-a-number?idType=DJUST_ID", headers=headers())
    assert_error(response, 404, "ORDER_NOT_FOUND")


def test_get_by_external_id(client: TestClient) -> None:
    load(
        client,
        {
            "orders": [
                {
                    "externalId": "ORD-EXT-GET",
                    "account": "ACC-1",
                    "user": "U-1",
                    "lines": [{"offerPrice": "OP-TIER", "quantity": 3}],
                }
            ]
        },
    )
    response = client.get(f"{ONE}/ORD-EXT-GET?idType=EXTERNAL_ID", headers=headers())
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["externalId"] == "ORD-EXT-GET"
    assert lines_of(order) == {"V-TIER": 3}
    # Another account does not find it by external id either.
    other = client.get(f"{ONE}/ORD-EXT-GET?idType=EXTERNAL_ID", headers=headers(KEY_2))
    assert_error(other, 404, "ORDER_NOT_FOUND")


def test_an_unknown_id_type_is_422(client: TestClient) -> None:
    reference = create_order(client)
    response = client.get(f"{ONE}/{reference}?idType=SKU", headers=headers())
    body = assert_error(response, 422, "INVALID_REQUEST")
    assert body["errors"][0]["field"] == "idType"


def test_an_unknown_reference_is_404(client: TestClient) -> None:
    assert_error(client.get(f"{ONE}/000-000-0000000", headers=headers()), 404, "ORDER_NOT_FOUND")


def test_order_custom_fields_are_stored(client: TestClient) -> None:
    reference = create_order(
        client,
        customFields=[
            {"customFieldId": "CF-PO", "customFieldValue": "PO-2026-117"},
            {"customFieldId": "CF-CC", "customFieldValue": "CC-B"},
        ],
    )
    assert get_order(client, reference)["customFields"] == {
        "CF-PO": "PO-2026-117",
        "CF-CC": "CC-B",
    }


def test_an_unknown_order_custom_field_is_422(client: TestClient) -> None:
    response = post_order(
        client, {"customFields": [{"customFieldId": "CF-NOPE", "customFieldValue": "x"}]}
    )
    body = assert_error(response, 422, "CUSTOM_FIELD_UNKNOWN")
    assert body["errors"][0]["field"] == "customFields.CF-NOPE"


def test_a_line_custom_field_on_the_order_is_unknown(client: TestClient) -> None:
    response = post_order(
        client, {"customFields": [{"customFieldId": "CF-NOTE", "customFieldValue": "x"}]}
    )
    assert_error(response, 422, "CUSTOM_FIELD_UNKNOWN")


def test_a_value_not_in_the_list_is_422(client: TestClient) -> None:
    response = post_order(
        client, {"customFields": [{"customFieldId": "CF-CC", "customFieldValue": "CC-Z"}]}
    )
    body = assert_error(response, 422, "CUSTOM_FIELD_INVALID")
    assert body["errors"][0]["field"] == "customFields.CF-CC"


def test_a_value_of_the_wrong_type_is_422(client: TestClient) -> None:
    response = post_order(
        client, {"customFields": [{"customFieldId": "CF-PO", "customFieldValue": 42}]}
    )
    assert_error(response, 422, "CUSTOM_FIELD_INVALID")


def test_a_refused_create_writes_no_order(client: TestClient) -> None:
    response = post_order(
        client, {"customFields": [{"customFieldId": "CF-CC", "customFieldValue": "CC-Z"}]}
    )
    assert response.status_code == 422
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM commercial_orders")).scalar() == 0


def test_a_partial_operation_order_starts_empty(client: TestClient) -> None:
    reference = create_order(client, sourceType="OPERATION", sourceId="OPN-PUB", isFull=False)
    order = get_order(client, reference)
    assert (order["sourceType"], order["sourceId"], order["isFull"]) == (
        "OPERATION",
        "OPN-PUB",
        False,
    )
    assert order["logisticOrders"] == []


def test_a_full_operation_order_starts_with_every_operation_line(client: TestClient) -> None:
    reference = create_order(client, sourceType="OPERATION", sourceId="OPN-PUB", isFull=True)
    order = get_order(client, reference)
    assert order["isFull"] is True
    assert lines_of(order) == {"V-OPN-1": 50, "V-OPN-2": 5}
    assert order["lineCount"] == 2
    assert order["productCount"] == 55
    assert order["totalNet"] == "220.00"  # 55 x 4.00
    assert order["version"] == 1


def test_a_private_operation_of_another_account_is_422(client: TestClient) -> None:
    response = post_order(client, {"sourceType": "OPERATION", "sourceId": "OPN-PRIV"})
    assert_error(response, 422, "OPERATION_NOT_AVAILABLE")


def test_a_private_operation_is_open_to_its_accounts(client: TestClient) -> None:
    response = post_order(client, {"sourceType": "OPERATION", "sourceId": "OPN-PRIV"}, KEY_2)
    assert response.status_code == 201, response.text
    order = get_order(client, response.json()["reference"], key=KEY_2)
    assert order["sourceId"] == "OPN-PRIV"


def test_an_inactive_operation_is_422(client: TestClient) -> None:
    response = post_order(client, {"sourceType": "OPERATION", "sourceId": "OPN-OFF"})
    assert_error(response, 422, "OPERATION_NOT_AVAILABLE")


def test_an_unknown_operation_is_422(client: TestClient) -> None:
    response = post_order(client, {"sourceType": "OPERATION", "sourceId": "OPN-NOPE"})
    assert_error(response, 422, "OPERATION_NOT_FOUND")


def test_an_operation_order_without_source_id_is_422(client: TestClient) -> None:
    response = post_order(client, {"sourceType": "OPERATION"})
    body = assert_error(response, 422, "INVALID_REQUEST")
    assert body["errors"][0]["field"] == "sourceId"


def test_an_unknown_source_type_is_422(client: TestClient) -> None:
    response = post_order(client, {"sourceType": "CAMPAIGN", "sourceId": "OPN-PUB"})
    body = assert_error(response, 422, "INVALID_REQUEST")
    assert body["errors"][0]["field"] == "sourceType"
