"""Back office: loading a data bundle (SPEC §6) and reading any order."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api import create_order, headers, load, put_lines
from tests.bundle import KEY_1, KEY_2, KEY_OPS, catalog_bundle, special_offers

DATA = "/v1/operator/data"
OPS = headers(KEY_OPS, "OPERATOR")


def post_bundle(client: TestClient, bundle: Any, key_headers: dict[str, str] = OPS) -> Any:
    return client.post(DATA, json=bundle, headers=key_headers)


def count(client: TestClient, sql: str, **params: Any) -> int:
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        value: int = conn.execute(text(sql), params).scalar_one()
    return value


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


def small_bundle() -> dict[str, Any]:
    return {
        "suppliers": [{"externalId": "SUP-OPS-DATA", "name": "Loaded", "status": "ACTIVE"}],
        "variants": [{"externalId": "V-OPS-DATA", "name": "Loaded item"}],
        "offers": [
            {
                "externalId": "OFR-OPS-DATA",
                "supplier": "SUP-OPS-DATA",
                "variant": "V-OPS-DATA",
                "status": "ACTIVE",
                "stock": None,
                "prices": [
                    {
                        "externalId": "OP-OPS-DATA",
                        "currency": "EUR",
                        "taxRate": 20,
                        "tiers": [
                            {"minQuantity": 1, "netUnitPrice": 2.5, "grossUnitPrice": "3.00"}
                        ],
                    }
                ],
            }
        ],
    }


def test_an_operator_loads_a_bundle_and_gets_counts(client: TestClient) -> None:
    response = post_bundle(client, small_bundle())
    assert response.status_code == 200, response.text
    counts = response.json()
    assert counts["suppliers"] == 1
    assert counts["variants"] == 1
    assert counts["offers"] == 1
    assert counts["offerPrices"] == 1
    assert counts["orders"] == 0
    assert all(isinstance(n, int) for n in counts.values())
    assert count(client, "SELECT count(*) FROM suppliers WHERE external_id = 'SUP-OPS-DATA'") == 1


def test_loaded_offers_can_be_ordered_at_once(client: TestClient) -> None:
    assert post_bundle(client, small_bundle()).status_code == 200
    reference = create_order(client)
    response = put_lines(client, reference, [{"id": "OP-OPS-DATA", "quantity": 4}])
    assert response.status_code == 200, response.text
    order = client.get(f"/v1/shop/commercial-orders/{reference}", headers=headers()).json()
    assert [lo["supplierExternalId"] for lo in order["logisticOrders"]] == ["SUP-OPS-DATA"]
    assert order["totalNet"] == "10.00"


def test_posting_the_same_bundle_again_changes_nothing(client: TestClient) -> None:
    first = post_bundle(client, small_bundle())
    assert first.status_code == 200, first.text
    tables = ("suppliers", "variants", "offers", "offer_prices")
    before = {t: count(client, f"SELECT count(*) FROM {t}") for t in tables}

    again = post_bundle(client, small_bundle())
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert {t: count(client, f"SELECT count(*) FROM {t}") for t in tables} == before


def test_a_reposted_bundle_updates_in_place(client: TestClient) -> None:
    assert post_bundle(client, small_bundle()).status_code == 200
    renamed = {
        "suppliers": [{"externalId": "SUP-OPS-DATA", "name": "Renamed", "status": "ACTIVE"}]
    }
    assert post_bundle(client, renamed).status_code == 200
    assert count(client, "SELECT count(*) FROM suppliers WHERE external_id = 'SUP-OPS-DATA'") == 1
    assert count(client, "SELECT count(*) FROM suppliers WHERE name = 'Renamed'") == 1
    assert post_bundle(client, small_bundle()).status_code == 200


def test_bundle_orders_are_created_once(client: TestClient) -> None:
    bundle = {
        "orders": [
            {
                "externalId": "ORD-OPS-ONCE",
                "account": "ACC-1",
                "user": "U-1",
                "lines": [{"offerPrice": "OP-TIER", "quantity": 2}],
            }
        ]
    }
    first = post_bundle(client, bundle)
    assert first.status_code == 200, first.text
    assert first.json()["orders"] == 1
    again = post_bundle(client, bundle)
    assert again.status_code == 200, again.text
    assert again.json()["orders"] == 0
    assert (
        count(client, "SELECT count(*) FROM commercial_orders WHERE external_id = 'ORD-OPS-ONCE'")
        == 1
    )


def test_a_bundle_order_whose_user_is_not_of_its_account_is_refused(client: TestClient) -> None:
    bundle = {
        "orders": [
            {
                "externalId": "ORD-OPS-WRONG-USER",
                "account": "ACC-1",
                "user": "U-2",
                "lines": [{"offerPrice": "OP-TIER", "quantity": 2}],
            }
        ]
    }
    body = assert_error(post_bundle(client, bundle), 422, "BUNDLE_INVALID")
    assert body["errors"][0]["field"] == "orders[0].user"
    assert count(client, "SELECT count(*) FROM commercial_orders") == 0


def test_a_bundle_order_with_no_orderable_line_is_bundle_invalid(client: TestClient) -> None:
    bundle = {
        "orders": [
            {
                "externalId": "ORD-OPS-NOSTOCK",
                "account": "ACC-1",
                "user": "U-1",
                "lines": [{"offerPrice": "OP-NOSTOCK", "quantity": 2}],
            }
        ]
    }
    body = assert_error(post_bundle(client, bundle), 422, "BUNDLE_INVALID")
    assert body["errors"][0]["field"] == "orders[0].lines"
    assert count(client, "SELECT count(*) FROM commercial_orders") == 0


def test_an_offer_of_an_unknown_supplier_is_422_and_nothing_is_written(
    client: TestClient,
) -> None:
    bundle = {
        "suppliers": [{"externalId": "SUP-OPS-NEVER", "name": "Never", "status": "ACTIVE"}],
        "offers": [
            {
                "externalId": "OFR-OPS-NEVER",
                "supplier": "SUP-NO-SUCH",
                "variant": "V-TIER",
                "prices": [],
            }
        ],
    }
    body = assert_error(post_bundle(client, bundle), 422, "BUNDLE_INVALID")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [
        ("BUNDLE_INVALID", "offers[0].supplier")
    ]
    assert "SUP-NO-SUCH" in body["errors"][0]["message"]
    assert count(client, "SELECT count(*) FROM suppliers WHERE external_id = 'SUP-OPS-NEVER'") == 0
    assert count(client, "SELECT count(*) FROM offers WHERE external_id = 'OFR-OPS-NEVER'") == 0


def test_a_bad_enum_value_is_422_naming_the_field_and_nothing_is_written(
    client: TestClient,
) -> None:
    bundle = {
        "suppliers": [
            {"externalId": "SUP-OPS-ENUM", "name": "Enum", "status": "ACTIVE"},
            {"externalId": "SUP-OPS-ENUM-2", "name": "Enum 2", "status": "MAYBE"},
        ],
    }
    body = assert_error(post_bundle(client, bundle), 422, "BUNDLE_INVALID")
    fields = [e["field"] for e in body["errors"]]
    assert len(fields) == 1
    assert fields[0].replace("[", ".").replace("]", "") == "suppliers.1.status"
    assert (
        count(client, "SELECT count(*) FROM suppliers WHERE external_id LIKE 'SUP-OPS-ENUM%'") == 0
    )


def test_an_invalid_bundle_changes_no_existing_row(client: TestClient) -> None:
    bundle = {
        "suppliers": [{"externalId": "SUP-A", "name": "Hijacked", "status": "INACTIVE"}],
        "offers": [{"externalId": "OFR-TIER", "supplier": "SUP-A", "variant": "V-NO-SUCH"}],
    }
    try:
        assert_error(post_bundle(client, bundle), 422, "BUNDLE_INVALID")
        assert (
            count(
                client,
                "SELECT count(*) FROM suppliers "
                "WHERE external_id = 'SUP-A' AND name = 'Acme' "
                "AND status = 'ACTIVE'",
            )
            == 1
        )
    finally:  # the catalog is shared: put it back even if the bundle did get through
        load(client, {"suppliers": catalog_bundle()["suppliers"], "offers": special_offers()})


def test_a_bundle_that_is_not_an_object_is_422(client: TestClient) -> None:
    response = post_bundle(client, [{"externalId": "SUP-OPS-LIST"}])
    assert response.status_code == 422, response.text
    response = post_bundle(client, {"suppliers": "SUP-OPS-STR"})
    assert_error(response, 422, "BUNDLE_INVALID")


def test_an_account_key_may_not_load_data(client: TestClient) -> None:
    response = post_bundle(client, small_bundle(), headers(KEY_1))
    assert_error(response, 403, "CLIENT_TYPE_FORBIDDEN")


def test_an_operator_reads_any_accounts_order_with_its_lines(client: TestClient) -> None:
    mine = create_order(client, key=KEY_1)
    theirs = create_order(client, key=KEY_2)
    assert put_lines(client, mine, [{"id": "OP-TIER", "quantity": 3}]).status_code == 200
    assert put_lines(client, theirs, [{"id": "OP-B", "quantity": 2}], key=KEY_2).status_code == 200

    for reference, offer_price, quantity in ((mine, "OP-TIER", 3), (theirs, "OP-B", 2)):
        response = client.get(f"/v1/operator/commercial-orders/{reference}", headers=OPS)
        assert response.status_code == 200, response.text
        order = response.json()
        assert order["reference"] == reference
        assert response.headers["ETag"] == f'"{order["version"]}"'
        lines = [ln for lo in order["logisticOrders"] for ln in lo["lines"]]
        assert [(ln["offerPriceExternalId"], ln["quantity"]) for ln in lines] == [
            (offer_price, quantity)
        ]


def test_an_operator_reads_orders_of_any_store(client: TestClient) -> None:
    created = client.post(
        "/v2/shop/commercial-orders", json={}, headers=headers(KEY_1, dj_store="S2")
    )
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    response = client.get(f"/v1/operator/commercial-orders/{reference}", headers=OPS)
    assert response.status_code == 200, response.text


def test_an_operator_asking_for_an_unknown_order_gets_404(client: TestClient) -> None:
    response = client.get("/v1/operator/commercial-orders/000-000-0000000", headers=OPS)
    assert_error(response, 404, "ORDER_NOT_FOUND")
