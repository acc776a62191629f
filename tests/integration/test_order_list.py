"""The front-office order list: GET /v2/shop/commercial-orders (issue 6)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api import create_order, get_order, headers, load, put_lines
from tests.bundle import KEY_1, KEY_2, KEY_MULTI, KEY_OPS, KEY_SUPPLIER

ORDERS = "/v2/shop/commercial-orders"

HEADER_FIELDS = {
    "reference",
    "id",
    "isValidated",
    "sourceType",
    "sourceId",
    "totalNet",
    "totalTax",
    "totalGross",
    "lineCount",
    "productCount",
    "version",
    "createdAt",
    "updatedAt",
}


def list_orders(
    client: TestClient, params: Any = None, key: str = KEY_1, **extra: str
) -> dict[str, Any]:
    response = client.get(ORDERS, params=params, headers=headers(key, **extra))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def refs(page: dict[str, Any]) -> list[str]:
    return [item["reference"] for item in page["content"]]


def listed(client: TestClient, params: Any = None, key: str = KEY_1, **extra: str) -> list[str]:
    return refs(list_orders(client, params, key, **extra))


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "errors"}
    assert (body["status"], body["code"]) == (status, code)
    return body


def create_as(client: TestClient, key: str, account: str | None = None, **body: Any) -> str:
    extra = {"customer-account-id": account} if account else {}
    response = client.post(ORDERS, json=body, headers={**headers(key), **extra})
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


def operation_order(client: TestClient, key: str = KEY_1, source_id: str = "OPN-PUB") -> str:
    return create_order(client, key, sourceType="OPERATION", sourceId=source_id)


def add_line(client: TestClient, reference: str, key: str = KEY_1, qty: int = 5) -> None:
    response = put_lines(client, reference, [{"id": "OP-TIER", "quantity": qty}], key=key)
    assert response.status_code == 200, response.text


def place(client: TestClient, reference: str, key: str = KEY_1) -> None:
    add_line(client, reference, key)
    response = client.put(f"/v1/shop/commercial-orders/{reference}/created", headers=headers(key))
    assert response.status_code == 200, response.text


def several(client: TestClient, n: int, key: str = KEY_1) -> list[str]:
    """n orders, oldest first."""
    return [create_order(client, key) for _ in range(n)]


def by_reference(references: list[str]) -> list[str]:
    return sorted(references, key=str.lower)


# --- the default page ---------------------------------------------------------------------


def test_default_page_is_the_first_20_newest_first_with_headers_and_no_lines(
    client: TestClient,
) -> None:
    older, with_lines, newest = several(client, 3)
    add_line(client, with_lines, qty=7)

    page = list_orders(client)

    assert set(page) == {"content", "page", "size", "totalElements", "totalPages"}
    assert (page["page"], page["size"], page["totalElements"], page["totalPages"]) == (0, 20, 3, 1)
    assert refs(page) == [newest, with_lines, older]
    for item in page["content"]:
        assert set(item) >= HEADER_FIELDS
        assert "logisticOrders" not in item
        assert "lines" not in item
    item = page["content"][1]
    order = get_order(client, with_lines)
    for field in HEADER_FIELDS:
        assert item[field] == order[field], field
    assert (item["lineCount"], item["productCount"], item["totalNet"]) == (1, 7, "8.40")
    assert item["isValidated"] is False
    assert (item["sourceType"], item["sourceId"]) == (None, None)


def test_the_default_page_holds_the_20_newest_orders(client: TestClient) -> None:
    created = several(client, 22)
    page = list_orders(client)
    assert refs(page) == created[::-1][:20]
    assert (page["totalElements"], page["totalPages"]) == (22, 2)
    assert refs(list_orders(client, {"page": 1})) == created[1::-1]


def test_an_account_without_orders_gets_an_empty_page(client: TestClient) -> None:
    create_order(client, KEY_2)
    page = list_orders(client)
    assert page == {"content": [], "page": 0, "size": 20, "totalElements": 0, "totalPages": 0}


def test_orders_created_at_the_same_instant_are_ordered_by_reference(client: TestClient) -> None:
    # A bundle creates its orders with one timestamp, so only the tie-breaker orders them.
    same_instant = ["300-000-0000002", "300-000-0000003", "300-000-0000001"]
    load(
        client,
        {
            "orders": [
                {"externalId": f"CO-TIE-{i}", "reference": ref, "account": "ACC-1", "user": "U-1"}
                for i, ref in enumerate(same_instant)
            ]
        },
    )
    newest = create_order(client)
    assert listed(client) == [newest, *sorted(same_instant)]


# --- paging -------------------------------------------------------------------------------


def test_pages_split_the_list_without_duplicates_or_gaps(client: TestClient) -> None:
    created = several(client, 5)
    pages = [list_orders(client, {"page": n, "size": 2}) for n in range(4)]

    assert [len(p["content"]) for p in pages] == [2, 2, 1, 0]
    for n, p in enumerate(pages):
        assert (p["page"], p["size"], p["totalElements"], p["totalPages"]) == (n, 2, 5, 3)
    seen = [ref for p in pages for ref in refs(p)]
    assert seen == list(reversed(created))


def test_a_page_of_100_is_allowed(client: TestClient) -> None:
    created = several(client, 3)
    page = list_orders(client, {"size": 100})
    assert (page["size"], page["totalPages"]) == (100, 1)
    assert set(refs(page)) == set(created)


# --- sorting ------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_created_at(client: TestClient, direction: str) -> None:
    created = several(client, 3)
    expected = created if direction == "asc" else list(reversed(created))
    assert listed(client, {"sort": f"createdAt:{direction}"}) == expected


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_updated_at(client: TestClient, direction: str) -> None:
    first, second, third = several(client, 3)
    add_line(client, first)  # now the most recently updated
    expected = [second, third, first]
    if direction == "desc":
        expected.reverse()
    assert listed(client, {"sort": f"updatedAt:{direction}"}) == expected


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_validated_at_puts_drafts_last_in_both_directions(
    client: TestClient, direction: str
) -> None:
    draft_1, placed_late, draft_2, placed_early = several(client, 4)
    place(client, placed_early)
    place(client, placed_late)

    placed = [placed_early, placed_late] if direction == "asc" else [placed_late, placed_early]
    assert listed(client, {"sort": f"validatedAt:{direction}"}) == [
        *placed,
        *by_reference([draft_1, draft_2]),
    ]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_reference(client: TestClient, direction: str) -> None:
    created = several(client, 4)
    expected = sorted(created, reverse=direction == "desc")
    assert listed(client, {"sort": f"reference:{direction}"}) == expected


def test_sort_by_reference_ignores_case(client: TestClient, app: FastAPI) -> None:
    # ordersync's own references are digits; orders migrated from elsewhere may carry letters.
    created = several(client, 3)
    with app.state.engine.begin() as conn:
        for old, new in zip(created, ["abc-1", "ABD-2", "abe-3"], strict=True):
            conn.execute(
                text("UPDATE commercial_orders SET reference = :new WHERE reference = :old"),
                {"new": new, "old": old},
            )
    assert listed(client, {"sort": "reference:asc"}) == ["abc-1", "ABD-2", "abe-3"]
    assert listed(client, {"sort": "reference:desc"}) == ["abe-3", "ABD-2", "abc-1"]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_source_type_puts_orders_without_source_last(
    client: TestClient, direction: str
) -> None:
    plain = several(client, 2)
    from_operation = [operation_order(client), operation_order(client)]
    assert listed(client, {"sort": f"sourceType:{direction}"}) == [
        *by_reference(from_operation),
        *by_reference(plain),
    ]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_source_id_puts_orders_without_source_last(
    client: TestClient, direction: str
) -> None:
    plain = create_order(client, KEY_2)
    public = operation_order(client, KEY_2, "OPN-PUB")
    private = operation_order(client, KEY_2, "OPN-PRIV")
    expected = [private, public] if direction == "asc" else [public, private]
    assert listed(client, {"sort": f"sourceId:{direction}"}, KEY_2) == [*expected, plain]


def test_sort_direction_defaults_to_ascending(client: TestClient) -> None:
    created = several(client, 3)
    assert listed(client, {"sort": "createdAt"}) == created


@pytest.mark.parametrize(
    "params",
    [
        [("sort", "sourceType:asc"), ("sort", "createdAt:asc")],
        [("sort", "sourceType:asc,createdAt:asc")],
    ],
    ids=["repeated", "comma-separated"],
)
def test_several_sort_entries_apply_in_order(client: TestClient, params: Any) -> None:
    plain_1 = create_order(client)
    operation_1 = operation_order(client)
    plain_2 = create_order(client)
    operation_2 = operation_order(client)
    assert listed(client, params) == [operation_1, operation_2, plain_1, plain_2]


@pytest.mark.parametrize(
    "sort", ["colour:asc", "createdAt:sideways", "createdAt:asc:desc", ":desc", ""]
)
def test_an_unknown_sort_entry_is_ignored_and_the_default_order_applies(
    client: TestClient, sort: str
) -> None:
    created = several(client, 3)
    assert listed(client, {"sort": sort}) == list(reversed(created))


def test_an_unknown_sort_entry_next_to_a_known_one_is_skipped(client: TestClient) -> None:
    created = several(client, 3)
    assert listed(client, {"sort": "colour:desc,createdAt:asc"}) == created
    assert listed(client, [("sort", "colour:desc"), ("sort", "createdAt:asc")]) == created


# --- filters ------------------------------------------------------------------------------


def test_is_validated_filters_placed_and_draft_orders(client: TestClient) -> None:
    draft, placed = several(client, 2)
    place(client, placed)

    assert listed(client, {"isValidated": "true"}) == [placed]
    assert listed(client, {"isValidated": "false"}) == [draft]
    assert list_orders(client, {"isValidated": "true"})["totalElements"] == 1
    assert list_orders(client, {"isValidated": "true"})["content"][0]["isValidated"] is True


def test_source_types_keeps_operation_orders_only(client: TestClient) -> None:
    create_order(client)
    from_operation = operation_order(client)
    page = list_orders(client, {"sourceTypes": "OPERATION"})
    assert refs(page) == [from_operation]
    assert (page["content"][0]["sourceType"], page["content"][0]["sourceId"]) == (
        "OPERATION",
        "OPN-PUB",
    )


@pytest.mark.parametrize(
    "params",
    [
        {"sourceIds": "OPN-PUB,OPN-PRIV"},
        [("sourceIds", "OPN-PUB"), ("sourceIds", "OPN-PRIV")],
    ],
    ids=["comma-separated", "repeated"],
)
def test_source_ids_accept_several_values(client: TestClient, params: Any) -> None:
    create_order(client, KEY_2)
    public = operation_order(client, KEY_2, "OPN-PUB")
    private = operation_order(client, KEY_2, "OPN-PRIV")
    assert set(listed(client, params, KEY_2)) == {public, private}
    assert listed(client, {"sourceIds": "OPN-PRIV"}, KEY_2) == [private]
    assert listed(client, {"sourceIds": "OPN-NONE"}, KEY_2) == []


def test_filters_combine(client: TestClient) -> None:
    create_order(client)
    draft_operation = operation_order(client)
    placed_operation = operation_order(client)
    place(client, placed_operation)
    params = {"sourceTypes": "OPERATION", "sourceIds": "OPN-PUB", "isValidated": "false"}
    assert listed(client, params) == [draft_operation]


# --- whose orders -------------------------------------------------------------------------


def test_customer_account_ids_choose_among_the_users_accounts(client: TestClient) -> None:
    of_acc_1 = create_as(client, KEY_MULTI)
    of_acc_2 = create_as(client, KEY_MULTI, "ACC-2")
    by_another_acc_2_user = create_order(client, KEY_2)
    both = {of_acc_1, of_acc_2, by_another_acc_2_user}

    assert listed(client, key=KEY_MULTI) == [of_acc_1]
    assert set(listed(client, {"customerAccountIds": "ACC-2"}, KEY_MULTI)) == {
        of_acc_2,
        by_another_acc_2_user,
    }
    assert set(listed(client, {"customerAccountIds": "ACC-1,ACC-2"}, KEY_MULTI)) == both
    repeated = [("customerAccountIds", "ACC-1"), ("customerAccountIds", "ACC-2")]
    assert set(listed(client, repeated, KEY_MULTI)) == both
    assert list_orders(client, repeated, KEY_MULTI)["totalElements"] == 3


def test_the_customer_account_id_header_chooses_the_listed_account(client: TestClient) -> None:
    of_acc_1 = create_as(client, KEY_MULTI)
    of_acc_2 = create_as(client, KEY_MULTI, "ACC-2")
    assert listed(client, key=KEY_MULTI, customer_account_id="ACC-2") == [of_acc_2]
    # customerAccountIds, when given, wins over the header's effective account.
    explicit = {"customerAccountIds": "ACC-1"}
    assert listed(client, explicit, KEY_MULTI, customer_account_id="ACC-2") == [of_acc_1]


@pytest.mark.parametrize(
    ("key", "accounts"),
    [(KEY_1, "ACC-2"), (KEY_1, "ACC-1,ACC-2"), (KEY_MULTI, "ACC-1,ACC-NOPE"), (KEY_2, "ACC-1")],
)
def test_an_account_that_is_not_the_users_is_403(
    client: TestClient, key: str, accounts: str
) -> None:
    create_order(client, KEY_2)
    create_order(client, KEY_1)
    response = client.get(ORDERS, params={"customerAccountIds": accounts}, headers=headers(key))
    body = assert_error(response, 403, "ACCOUNT_FORBIDDEN")
    assert "content" not in body


def test_an_account_user_never_sees_another_accounts_orders(client: TestClient) -> None:
    mine = create_order(client, KEY_1)
    theirs = [create_order(client, KEY_2), create_order(client, KEY_2)]
    place(client, theirs[0], KEY_2)

    page = list_orders(client)
    assert refs(page) == [mine]
    assert (page["totalElements"], page["totalPages"]) == (1, 1)
    assert list_orders(client, {"isValidated": "true"})["totalElements"] == 0
    assert set(listed(client, key=KEY_2)) == set(theirs)
    assert list_orders(client, key=KEY_2)["totalElements"] == 2


def test_orders_of_another_store_are_listed_only_in_that_store(client: TestClient) -> None:
    in_default_store = create_order(client)
    response = client.post(ORDERS, json={}, headers=headers(KEY_1, dj_store="S2"))
    assert response.status_code == 201, response.text
    in_s2 = response.json()["reference"]

    assert listed(client) == [in_default_store]
    assert list_orders(client)["totalElements"] == 1
    assert listed(client, dj_store="S2") == [in_s2]
    assert listed(client, dj_store="S1") == [in_default_store]


# --- bad input and the wrong callers ------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "-1"}, "page"),
        ({"size": "0"}, "size"),
        ({"size": "101"}, "size"),
        ({"size": "10000"}, "size"),
        ({"page": "abc"}, "page"),
        ({"isValidated": "maybe"}, "isValidated"),
        ({"sourceTypes": "FOO"}, "sourceTypes"),
    ],
)
def test_bad_query_parameters_are_422_in_the_common_error_body(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    create_order(client)
    response = client.get(ORDERS, params=params, headers=headers())
    body = assert_error(response, 422, "INVALID_REQUEST")
    assert body["errors"], body
    assert all(set(e) == {"code", "field", "message"} for e in body["errors"])
    assert any(e["field"].startswith(field) for e in body["errors"]), body


@pytest.mark.parametrize(
    ("key", "client_type"), [(KEY_OPS, "OPERATOR"), (KEY_SUPPLIER, "SUPPLIER")]
)
def test_operator_and_supplier_clients_are_403(
    client: TestClient, key: str, client_type: str
) -> None:
    create_order(client)
    response = client.get(ORDERS, headers=headers(key, client_type))
    body = assert_error(response, 403, "CLIENT_TYPE_FORBIDDEN")
    assert "content" not in body
