"""Who may call what (SPEC §2): API keys, client types, stores, store views and accounts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api import create_order, get_order, headers, put_lines
from tests.bundle import KEY_1, KEY_2, KEY_MULTI, KEY_OPS, KEY_SUPPLIER

ORDERS = "/v2/shop/commercial-orders"


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "errors"}
    assert body["status"] == status
    assert body["code"] == code
    return body


def test_a_request_without_dj_client_is_401(client: TestClient) -> None:
    response = client.get("/v1/shop/commercial-orders/x", headers={"dj-api-key": KEY_1})
    error_of(response, 401, "AUTHENTICATION_REQUIRED")


def test_a_request_without_api_key_is_401(client: TestClient) -> None:
    response = client.post(ORDERS, json={}, headers={"dj-client": "ACCOUNT"})
    error_of(response, 401, "AUTHENTICATION_REQUIRED")


def test_an_unknown_api_key_is_401(client: TestClient) -> None:
    response = client.post(ORDERS, json={}, headers=headers("no-such-key"))
    error_of(response, 401, "INVALID_API_KEY")


def test_an_account_key_presented_as_operator_is_401(client: TestClient) -> None:
    response = client.get(
        "/v1/operator/commercial-orders/000-000-0000000", headers=headers(KEY_1, "OPERATOR")
    )
    error_of(response, 401, "INVALID_API_KEY")


def test_an_operator_key_on_a_shop_route_is_403(client: TestClient) -> None:
    response = client.post(ORDERS, json={}, headers=headers(KEY_OPS, "OPERATOR"))
    error_of(response, 403, "CLIENT_TYPE_FORBIDDEN")


def test_a_supplier_key_on_a_shop_route_is_403_client_type_forbidden(
    client: TestClient,
) -> None:
    response = client.post(ORDERS, json={}, headers=headers(KEY_SUPPLIER, "SUPPLIER"))
    error_of(response, 403, "CLIENT_TYPE_FORBIDDEN")


def test_a_supplier_key_on_a_shop_route_is_refused_with_403(client: TestClient) -> None:
    response = client.post(ORDERS, json={}, headers=headers(KEY_SUPPLIER, "SUPPLIER"))
    assert response.status_code == 403, response.text
    assert (
        client.get(
            "/v1/shop/commercial-orders/000-000-0000000", headers=headers(KEY_SUPPLIER, "SUPPLIER")
        ).status_code
        == 403
    )


def test_a_store_the_user_is_not_attached_to_is_403(client: TestClient) -> None:
    response = client.post(ORDERS, json={}, headers=headers(KEY_2, dj_store="S2"))
    error_of(response, 403, "STORE_FORBIDDEN")


def test_an_unknown_store_is_403(client: TestClient) -> None:
    response = client.post(ORDERS, json={}, headers=headers(KEY_1, dj_store="S-NOPE"))
    error_of(response, 403, "STORE_FORBIDDEN")


def test_a_store_view_of_another_store_is_403(client: TestClient) -> None:
    response = client.post(
        ORDERS, json={}, headers=headers(KEY_1, dj_store="S1", dj_store_view="SV-S2")
    )
    error_of(response, 403, "STORE_VIEW_FORBIDDEN")


def test_an_unknown_store_view_is_403(client: TestClient) -> None:
    response = client.post(ORDERS, json={}, headers=headers(KEY_1, dj_store_view="SV-NOPE"))
    error_of(response, 403, "STORE_VIEW_FORBIDDEN")


def test_a_store_view_of_the_effective_store_is_accepted(client: TestClient) -> None:
    response = client.post(
        ORDERS, json={}, headers=headers(KEY_1, dj_store="S2", dj_store_view="SV-S2")
    )
    assert response.status_code == 201, response.text


def test_an_account_not_among_the_users_is_403(client: TestClient) -> None:
    response = client.post(ORDERS, json={}, headers=headers(KEY_1, customer_account_id="ACC-2"))
    error_of(response, 403, "ACCOUNT_FORBIDDEN")


def test_an_unknown_account_is_403(client: TestClient) -> None:
    response = client.post(
        ORDERS, json={}, headers=headers(KEY_MULTI, customer_account_id="ACC-NOPE")
    )
    error_of(response, 403, "ACCOUNT_FORBIDDEN")


def test_a_user_of_several_accounts_creates_an_order_for_the_chosen_account(
    client: TestClient,
) -> None:
    response = client.post(
        ORDERS, json={}, headers=headers(KEY_MULTI, customer_account_id="ACC-2")
    )
    assert response.status_code == 201, response.text
    reference = response.json()["reference"]

    assert get_order(client, reference, key=KEY_2)["reference"] == reference
    # The user's default account (ACC-1) does not see it.
    assert (
        client.get(
            f"/v1/shop/commercial-orders/{reference}", headers=headers(KEY_MULTI)
        ).status_code
        == 404
    )
    assert (
        client.get(f"/v1/shop/commercial-orders/{reference}", headers=headers(KEY_1)).status_code
        == 404
    )


def test_a_user_of_several_accounts_defaults_to_its_first_account(client: TestClient) -> None:
    reference = create_order(client, key=KEY_MULTI)
    assert get_order(client, reference, key=KEY_1)["reference"] == reference
    assert (
        client.get(f"/v1/shop/commercial-orders/{reference}", headers=headers(KEY_2)).status_code
        == 404
    )


def _assert_hidden(response: Any, order: dict[str, Any]) -> None:
    body = error_of(response, 404, "ORDER_NOT_FOUND")
    assert body["errors"] == []
    # Only what the caller sent may be echoed back: nothing of the order's contents.
    for secret in (
        "OP-TIER",
        "V-TIER",
        "SUP-A",
        "ACC-1",
        "Item",
        order["totalNet"],
        order["logisticOrders"][0]["reference"],
        "logisticOrders",
        "version",
    ):
        assert secret not in response.text


def test_another_accounts_order_is_404_on_every_shop_route_and_leaks_nothing(
    client: TestClient,
) -> None:
    reference = create_order(client, key=KEY_1)
    assert put_lines(client, reference, [{"id": "OP-TIER", "quantity": 7}]).status_code == 200
    order = get_order(client, reference)
    base = f"/v1/shop/commercial-orders/{reference}"
    other = headers(KEY_2)

    _assert_hidden(client.get(base, headers=other), order)
    _assert_hidden(
        put_lines(client, reference, [{"id": "OP-TIER", "quantity": 1}], key=KEY_2), order
    )
    _assert_hidden(client.put(f"{base}/sync", headers=other), order)
    _assert_hidden(client.put(f"{base}/created", headers=other), order)
    _assert_hidden(
        client.get(f"{base[: -len(reference)]}{order['id']}?idType=DJUST_ID", headers=other), order
    )

    after = get_order(client, reference)
    assert after["version"] == order["version"]
    assert after["isValidated"] is False
    assert after["logisticOrders"][0]["lines"][0]["quantity"] == 7


def test_an_order_of_another_store_is_404_in_the_default_store(client: TestClient) -> None:
    response = client.post(ORDERS, json={}, headers=headers(KEY_1, dj_store="S2"))
    assert response.status_code == 201, response.text
    reference = response.json()["reference"]

    error_of(
        client.get(f"/v1/shop/commercial-orders/{reference}", headers=headers(KEY_1)),
        404,
        "ORDER_NOT_FOUND",
    )
    in_s2 = client.get(
        f"/v1/shop/commercial-orders/{reference}", headers=headers(KEY_1, dj_store="S2")
    )
    assert in_s2.status_code == 200, in_s2.text


def test_an_account_key_on_the_operator_order_route_is_403(client: TestClient) -> None:
    reference = create_order(client)
    response = client.get(f"/v1/operator/commercial-orders/{reference}", headers=headers(KEY_1))
    error_of(response, 403, "CLIENT_TYPE_FORBIDDEN")


def test_an_account_key_on_the_operator_data_route_is_403(client: TestClient) -> None:
    response = client.post("/v1/operator/data", json={}, headers=headers(KEY_1))
    error_of(response, 403, "CLIENT_TYPE_FORBIDDEN")


def test_api_keys_are_stored_hashed_never_in_plain(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = [row[0] for row in conn.execute(text("SELECT api_key_hash FROM users"))]
    assert len(stored) >= 5
    for key in (KEY_1, KEY_2, KEY_MULTI, KEY_OPS, KEY_SUPPLIER):
        assert key not in stored
        assert all(key not in value for value in stored)
    assert all(len(value) == 64 for value in stored)
