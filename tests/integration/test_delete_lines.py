"""Deleting lines: DELETE /v2/shop/commercial-orders/{reference}/lines (issue 6)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import create_order, get_order, headers, put_lines
from tests.bundle import KEY_1, KEY_2

ORDERS = "/v2/shop/commercial-orders"


def delete_lines(
    client: TestClient, reference: str, ids: list[str], key: str = KEY_1, **extra: str
) -> Any:
    return client.request(
        "DELETE",
        f"{ORDERS}/{reference}/lines",
        json=[{"offerPriceId": i} for i in ids],
        headers=headers(key, **extra),
    )


def delete_raw(client: TestClient, reference: str, content: str) -> Any:
    return client.request(
        "DELETE",
        f"{ORDERS}/{reference}/lines",
        content=content,
        headers={**headers(), "content-type": "application/json"},
    )


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "errors"}
    assert (body["status"], body["code"]) == (status, code)
    return body


def order_with(client: TestClient, lines: list[dict[str, Any]], key: str = KEY_1) -> str:
    reference = create_order(client, key)
    response = put_lines(client, reference, lines, key=key)
    assert response.status_code == 200, response.text
    return reference


def line_ids(order: dict[str, Any]) -> list[str]:
    return sorted(
        ln["offerPriceExternalId"] for lo in order["logisticOrders"] for ln in lo["lines"]
    )


THREE_LINES = [
    {"id": "OP-TIER", "quantity": 10},  # SUP-A, 10 x 1.20 net, 1.50 gross
    {"id": "OP-SYNC", "quantity": 2},  # SUP-A, 2 x 3.00 net, 4.00 gross
    {"id": "OP-B", "quantity": 3},  # SUP-B, 3 x 5.00 net, 6.00 gross
]


def test_deleting_a_line_removes_it_and_recomputes_totals(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    before = get_order(client, reference)
    assert before["totalNet"] == "33.00"

    response = delete_lines(client, reference, ["OP-SYNC"])

    assert response.status_code == 204, response.text
    assert response.content == b""
    after = get_order(client, reference)
    assert line_ids(after) == ["OP-B", "OP-TIER"]
    totals = (after["totalNet"], after["totalTax"], after["totalGross"])
    assert totals == ("27.00", "5.40", "32.40")
    assert (after["lineCount"], after["productCount"]) == (2, 13)
    sup_a = next(lo for lo in after["logisticOrders"] if lo["supplierExternalId"] == "SUP-A")
    assert (sup_a["totalNet"], sup_a["totalGross"]) == ("12.00", "14.40")
    assert after["version"] == before["version"] + 1
    assert response.headers["ETag"] == f'"{after["version"]}"'


def test_deleting_several_lines_at_once(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    response = delete_lines(client, reference, ["OP-TIER", "OP-B"])
    assert response.status_code == 204, response.text
    after = get_order(client, reference)
    assert line_ids(after) == ["OP-SYNC"]
    assert after["totalNet"] == "6.00"


def test_deleting_the_last_line_of_a_supplier_drops_its_logistic_order(
    client: TestClient,
) -> None:
    reference = order_with(client, THREE_LINES)
    assert delete_lines(client, reference, ["OP-B"]).status_code == 204
    after = get_order(client, reference)
    assert [lo["supplierExternalId"] for lo in after["logisticOrders"]] == ["SUP-A"]
    assert after["totalNet"] == "18.00"


def test_deleting_every_line_leaves_an_empty_draft(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    assert delete_lines(client, reference, ["OP-TIER", "OP-SYNC", "OP-B"]).status_code == 204
    after = get_order(client, reference)
    assert after["logisticOrders"] == []
    assert (after["lineCount"], after["productCount"], after["totalNet"]) == (0, 0, "0.00")
    assert after["isValidated"] is False


def test_a_deleted_line_can_be_added_again(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    assert delete_lines(client, reference, ["OP-B"]).status_code == 204
    response = put_lines(client, reference, [{"id": "OP-B", "quantity": 1}])
    assert response.status_code == 200, response.text
    assert line_ids(get_order(client, reference)) == ["OP-B", "OP-SYNC", "OP-TIER"]


@pytest.mark.parametrize(
    "ids",
    [["OP-NOPE"], ["OP-0001"], ["OP-TIER", "OP-NOPE"], ["OP-NOPE", "OP-B", "OP-SYNC"]],
    ids=["unknown", "in-catalog-not-on-order", "after-a-valid-id", "before-valid-ids"],
)
def test_an_id_not_on_the_order_is_422_naming_it_and_nothing_is_deleted(
    client: TestClient, ids: list[str]
) -> None:
    reference = order_with(client, THREE_LINES)
    before = get_order(client, reference)

    body = assert_error(delete_lines(client, reference, ids), 422, "LINE_NOT_ON_ORDER")

    missing = next(i for i in ids if i not in ("OP-TIER", "OP-SYNC", "OP-B"))
    assert missing in body["message"]
    assert [e["code"] for e in body["errors"]] == ["LINE_NOT_ON_ORDER"]
    assert missing in body["errors"][0]["message"]
    assert body["errors"][0]["field"] == f"[{ids.index(missing)}].offerPriceId"
    assert get_order(client, reference) == before


def test_every_id_not_on_the_order_is_named(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    body = assert_error(
        delete_lines(client, reference, ["OP-X1", "OP-TIER", "OP-X2"]), 422, "LINE_NOT_ON_ORDER"
    )
    assert [e["field"] for e in body["errors"]] == ["[0].offerPriceId", "[2].offerPriceId"]


def test_the_same_id_twice_is_422_and_nothing_is_deleted(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    before = get_order(client, reference)
    body = assert_error(
        delete_lines(client, reference, ["OP-B", "OP-TIER", "OP-B"]), 422, "DUPLICATE_LINE_ID"
    )
    assert body["errors"][0]["field"] == "[2].offerPriceId"
    assert get_order(client, reference) == before


NOT_A_LIST_OF_IDS = {
    "empty-list": "[]",
    "empty-object": "{}",
    "object": '{"offerPriceId": "OP-B"}',
    "missing-id": "[{}]",
    "blank-id": '[{"offerPriceId": ""}]',
    "number-id": '[{"offerPriceId": 5}]',
    "wrong-key": '[{"id": "OP-B"}]',
    "null": "null",
    "string": '"OP-B"',
    "no-body": "",
}


@pytest.mark.parametrize("content", NOT_A_LIST_OF_IDS.values(), ids=list(NOT_A_LIST_OF_IDS))
def test_an_empty_or_malformed_body_is_422(client: TestClient, content: str) -> None:
    reference = order_with(client, THREE_LINES)
    before = get_order(client, reference)
    response = delete_raw(client, reference, content)
    body = assert_error(response, 422, "INVALID_REQUEST")
    assert body["errors"]
    assert get_order(client, reference) == before


def test_malformed_json_is_422(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    before = get_order(client, reference)
    assert_error(delete_raw(client, reference, '[{"offerPriceId": "OP-B"'), 422, "MALFORMED_JSON")
    assert get_order(client, reference) == before


def test_a_placed_order_is_409(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    placed = client.put(f"/v1/shop/commercial-orders/{reference}/created", headers=headers())
    assert placed.status_code == 200, placed.text
    before = get_order(client, reference)
    assert_error(delete_lines(client, reference, ["OP-B"]), 409, "ORDER_NOT_EDITABLE")
    assert get_order(client, reference) == before


def test_another_accounts_order_is_404_and_untouched(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    before = get_order(client, reference)
    body = assert_error(delete_lines(client, reference, ["OP-B"], KEY_2), 404, "ORDER_NOT_FOUND")
    assert "OP-B" not in body["message"]
    assert get_order(client, reference) == before


def test_an_order_of_another_store_is_404(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    response = delete_lines(client, reference, ["OP-B"], dj_store="S2")
    assert_error(response, 404, "ORDER_NOT_FOUND")
    assert len(line_ids(get_order(client, reference))) == 3


def test_an_unknown_reference_is_404(client: TestClient) -> None:
    assert_error(delete_lines(client, "999-999-9999999", ["OP-B"]), 404, "ORDER_NOT_FOUND")


def test_if_match_with_the_current_version_deletes(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    version = get_order(client, reference)["version"]
    response = delete_lines(client, reference, ["OP-B"], if_match=f'"{version}"')
    assert response.status_code == 204, response.text
    assert response.headers["ETag"] == f'"{version + 1}"'


def test_a_stale_if_match_is_412_and_nothing_is_deleted(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    stale = get_order(client, reference)["version"]
    assert put_lines(client, reference, [{"id": "OP-0001", "quantity": 1}]).status_code == 200
    before = get_order(client, reference)

    response = delete_lines(client, reference, ["OP-B"], if_match=f'"{stale}"')

    assert_error(response, 412, "VERSION_MISMATCH")
    assert get_order(client, reference) == before


def test_more_ids_than_an_order_can_hold_is_422(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    ids = [f"OP-{i:04d}" for i in range(1, 1002)]
    assert_error(delete_lines(client, reference, ids), 422, "INVALID_REQUEST")
    assert len(line_ids(get_order(client, reference))) == 3


def test_a_huge_body_is_413_and_nothing_is_deleted(client: TestClient) -> None:
    reference = order_with(client, THREE_LINES)
    ids = ["OP-B"] + ["x" * 100] * 3000  # over the 262,144-byte limit of the test app
    assert_error(delete_lines(client, reference, ids), 413, "PAYLOAD_TOO_LARGE")
    assert len(line_ids(get_order(client, reference))) == 3
