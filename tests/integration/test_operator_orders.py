"""Back office (issue 6): any commercial order, the logistic-order list, and PATCH of a
logistic order (status forward only, externalId once, shipping address per status)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import create_order, get_order, headers, put_lines
from tests.bundle import KEY_1, KEY_2, KEY_OPS, KEY_SUPPLIER

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


# --- GET /v1/operator/logistic-orders -----------------------------------------------------


@pytest.fixture
def four(client: TestClient) -> dict[str, str]:
    """ACC-1: one order with SUP-A (ORDER_CREATED) and SUP-B (WAITING_SHIPMENT) logistic
    orders; ACC-2: a SUP-A draft and a SUP-B order on hold."""
    acc_1 = logistic_refs(client, order_with(client, ["OP-TIER", "OP-B"]))
    acc_2_a = a_logistic_order(client, "OP-0001", KEY_2)
    acc_2_b = a_logistic_order(client, "OP-0002", KEY_2)
    move(client, acc_1["SUP-A"], "ORDER_CREATED")
    move(client, acc_1["SUP-B"], "WAITING_SHIPMENT")
    move(client, acc_2_b, "DRAFT_ORDER_ON_HOLD")
    return {"1A": acc_1["SUP-A"], "1B": acc_1["SUP-B"], "2A": acc_2_a, "2B": acc_2_b}


def test_the_list_shows_every_accounts_logistic_orders_with_their_owner(
    client: TestClient, four: dict[str, str]
) -> None:
    page = list_page(client)

    assert set(page) == {"content", "page", "size", "totalElements", "totalPages"}
    assert (page["page"], page["size"], page["totalElements"], page["totalPages"]) == (0, 20, 4, 1)
    items = {item["reference"]: item for item in page["content"]}
    assert set(items) == set(four.values())
    first = items[four["1A"]]
    assert first["commercialOrderReference"] == owner(four["1A"])
    assert (first["accountExternalId"], first["supplierExternalId"]) == ("ACC-1", "SUP-A")
    assert first["status"] == "ORDER_CREATED"
    assert (first["totalNet"], first["totalTax"], first["totalGross"]) == ("2.40", "0.48", "2.88")
    assert first["lineCount"] == 1
    assert "lines" not in first
    assert items[four["2B"]]["accountExternalId"] == "ACC-2"
    assert items[four["2B"]]["status"] == "DRAFT_ORDER_ON_HOLD"
    detail = logistic(client, four["1B"])
    item = items[four["1B"]]
    for field in ("id", "status", "totalNet", "totalGross", "shippingAddress", "createdAt"):
        assert item[field] == detail[field], field


def test_the_default_order_is_newest_first_then_reference(
    client: TestClient, four: dict[str, str]
) -> None:
    # 1A and 1B were created by the same request; the reference breaks the tie.
    assert listed(client) == [four["2B"], four["2A"], four["1A"], four["1B"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "DRAFT_ORDER"}, {"2A"}),
        ({"status": "ORDER_CREATED,WAITING_SHIPMENT"}, {"1A", "1B"}),
        ([("status", "ORDER_CREATED"), ("status", "DRAFT_ORDER")], {"1A", "2A"}),
        ({"status": "ORDER_DRAFT_ON_HOLD"}, {"2B"}),
        ({"status": "DRAFT_ORDER_ON_HOLD"}, {"2B"}),
        ({"status": "COMPLETED"}, set()),
        ({"supplier": "SUP-A"}, {"1A", "2A"}),
        ({"supplier": "SUP-B"}, {"1B", "2B"}),
        ({"supplier": "SUP-NOPE"}, set()),
        ({"account": "ACC-1"}, {"1A", "1B"}),
        ({"account": "ACC-2"}, {"2A", "2B"}),
        ({"account": "ACC-2", "supplier": "SUP-B"}, {"2B"}),
        ({"account": "ACC-1", "status": "DRAFT_ORDER,WAITING_SHIPMENT"}, {"1B"}),
    ],
)
def test_filters(
    client: TestClient, four: dict[str, str], params: Any, expected: set[str]
) -> None:
    page = list_page(client, params)
    assert {item["reference"] for item in page["content"]} == {four[k] for k in expected}
    assert page["totalElements"] == len(expected)


def test_created_from_and_created_to_bound_the_creation_time(client: TestClient) -> None:
    refs = [a_logistic_order(client) for _ in range(3)]
    created = {
        item["reference"]: parse_time(item["createdAt"]) for item in list_page(client)["content"]
    }
    times = [created[r] for r in refs]
    assert times == sorted(times)
    after_first = times[0] + (times[1] - times[0]) / 2
    after_second = times[1] + (times[2] - times[1]) / 2

    assert set(listed(client, {"createdFrom": after_first.isoformat()})) == set(refs[1:])
    assert set(listed(client, {"createdTo": after_first.isoformat()})) == {refs[0]}
    both = {"createdFrom": after_first.isoformat(), "createdTo": after_second.isoformat()}
    assert listed(client, both) == [refs[1]]
    assert list_page(client, both)["totalElements"] == 1
    # The same instant written with another offset selects the same orders.
    paris = after_first.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert set(listed(client, {"createdFrom": paris})) == set(refs[1:])
    zulu = after_first.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert set(listed(client, {"createdTo": zulu})) == {refs[0]}
    assert listed(client, {"createdFrom": (times[2] + timedelta(hours=1)).isoformat()}) == []


@pytest.mark.parametrize(
    ("params", "everything"),
    [
        ({"createdFrom": "0001-01-01T00:00:00+01:00"}, True),
        ({"createdTo": "0001-01-01T00:00:00+01:00"}, False),
        ({"createdFrom": "9999-12-31T23:59:59-01:00"}, False),
        ({"createdTo": "9999-12-31T23:59:59-01:00"}, True),
    ],
)
def test_date_bounds_beyond_the_calendar_in_utc_select_all_or_nothing(
    client: TestClient, params: Any, everything: bool
) -> None:
    # Converting these to UTC overflows Python's datetime; that used to be a 500.
    reference = a_logistic_order(client)
    assert listed(client, params) == ([reference] if everything else [])


def test_pages_split_the_list_without_duplicates_or_gaps(client: TestClient) -> None:
    created = [a_logistic_order(client) for _ in range(5)]
    pages = [list_page(client, {"page": n, "size": 2}) for n in range(4)]
    assert [len(p["content"]) for p in pages] == [2, 2, 1, 0]
    for n, p in enumerate(pages):
        assert (p["page"], p["size"], p["totalElements"], p["totalPages"]) == (n, 2, 5, 3)
    assert [item["reference"] for p in pages for item in p["content"]] == created[::-1]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_created_at(client: TestClient, direction: str) -> None:
    created = [a_logistic_order(client) for _ in range(3)]
    expected = created if direction == "asc" else created[::-1]
    assert listed(client, {"sort": f"createdAt:{direction}"}) == expected


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_updated_at(client: TestClient, direction: str) -> None:
    first, second, third = (a_logistic_order(client) for _ in range(3))
    move(client, first, "ORDER_CREATED")
    expected = [second, third, first] if direction == "asc" else [first, third, second]
    assert listed(client, {"sort": f"updatedAt:{direction}"}) == expected


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_reference(client: TestClient, direction: str) -> None:
    created = [a_logistic_order(client) for _ in range(4)]
    expected = sorted(created, reverse=direction == "desc")
    assert listed(client, {"sort": f"reference:{direction}"}) == expected


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_status(client: TestClient, direction: str) -> None:
    shipping = in_status(client, "WAITING_SHIPMENT")
    draft = in_status(client, "DRAFT_ORDER")
    created = in_status(client, "ORDER_CREATED")
    expected = [draft, created, shipping]
    if direction == "desc":
        expected.reverse()
    assert listed(client, {"sort": f"status:{direction}"}) == expected


def test_several_sort_entries_apply_in_order(client: TestClient) -> None:
    a_1 = in_status(client, "ORDER_CREATED")
    draft_1 = in_status(client, "DRAFT_ORDER")
    a_2 = in_status(client, "ORDER_CREATED")
    draft_2 = in_status(client, "DRAFT_ORDER")
    expected = [a_1, a_2, draft_1, draft_2]
    assert listed(client, {"sort": "status:desc,createdAt:asc"}) == expected
    assert listed(client, [("sort", "status:desc"), ("sort", "createdAt:asc")]) == expected


@pytest.mark.parametrize("sort", ["colour:asc", "createdAt:sideways", "sourceId:asc"])
def test_an_unknown_sort_entry_is_ignored(client: TestClient, sort: str) -> None:
    created = [a_logistic_order(client) for _ in range(3)]
    assert listed(client, {"sort": sort}) == created[::-1]
    assert listed(client, {"sort": f"{sort},createdAt:asc"}) == created


def test_an_unknown_status_filter_is_422_status_unknown(client: TestClient) -> None:
    response = client.get(LOGISTIC, params={"status": "ORDER_CREATED,SHIPPING"}, headers=ops())
    body = assert_error(response, 422, "STATUS_UNKNOWN")
    assert "SHIPPING" in body["message"]
    assert body["errors"][0]["field"] == "status"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "-1"}, "page"),
        ({"size": "101"}, "size"),
        ({"size": "0"}, "size"),
        ({"size": "10000"}, "size"),
        ({"page": "first"}, "page"),
        ({"createdFrom": "yesterday"}, "createdFrom"),
        ({"createdTo": "2026-13-45T00:00:00Z"}, "createdTo"),
    ],
)
def test_bad_list_parameters_are_422(client: TestClient, params: Any, field: str) -> None:
    body = assert_error(client.get(LOGISTIC, params=params, headers=ops()), 422, "INVALID_REQUEST")
    assert any(e["field"] == field for e in body["errors"]), body


@pytest.mark.parametrize(("key", "client_type"), [(KEY_1, "ACCOUNT"), (KEY_SUPPLIER, "SUPPLIER")])
def test_account_and_supplier_clients_cannot_list_logistic_orders(
    client: TestClient, key: str, client_type: str
) -> None:
    a_logistic_order(client)
    response = client.get(LOGISTIC, headers=headers(key, client_type))
    body = assert_error(response, 403, "CLIENT_TYPE_FORBIDDEN")
    assert "content" not in body


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
