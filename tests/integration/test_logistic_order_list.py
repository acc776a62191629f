"""GET /v1/operator/logistic-orders: filters, paging, sorting, access."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import headers
from tests.bundle import KEY_1, KEY_2, KEY_SUPPLIER
from tests.integration.operator_helpers import (
    LOGISTIC,
    a_logistic_order,
    assert_error,
    in_status,
    list_page,
    listed,
    logistic,
    logistic_refs,
    move,
    ops,
    order_with,
    owner,
    parse_time,
)

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
