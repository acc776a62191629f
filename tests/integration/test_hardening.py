"""Regression tests of the hardening findings: each request here once answered 500 (or stored
what it should have refused); now each is a clear 4xx, the same on SQLite and PostgreSQL, and
every order stays readable."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import create_order, get_order, headers, load, put_lines
from tests.bundle import KEY_1, KEY_OPS

ORDERS = "/v2/shop/commercial-orders"
ONE = "/v1/shop/commercial-orders"
JSON = {"content-type": "application/json"}
OPS = headers(KEY_OPS, "OPERATOR")
KEY_INACTIVE = "key-user-inactive"


@pytest.fixture
def api(client: TestClient) -> Iterator[TestClient]:
    """A client that sees a server error as a 500 answer; afterwards every order of ACC-1
    must still be listed and readable."""
    yield TestClient(client.app, raise_server_exceptions=False)
    listed = client.get(ORDERS, params={"size": 100}, headers=headers())
    assert listed.status_code == 200, listed.text
    for order in listed.json()["content"]:
        get_order(client, order["reference"])


def error(response: Any, status: int, code: str, field_code: str | None = None) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["status"], body["code"]) == (status, code), body
    if field_code is not None:
        assert field_code in {e["code"] for e in body["errors"]}, body
    return body


# --- 1. text that is not Unicode scalar values ------------------------------------------------


LONE_SURROGATE = b'"PO-\\udc80"'


def test_a_lone_surrogate_in_a_custom_field_is_refused_and_nothing_is_stored(
    api: TestClient,
) -> None:
    body = b'{"customFields":[{"customFieldId":"CF-PO","customFieldValue":' + LONE_SURROGATE
    body += b"}]}"
    before = api.get(ORDERS, headers=headers()).json()["totalElements"]
    response = api.post(ORDERS, content=body, headers={**headers(), **JSON})
    error(response, 422, "INVALID_REQUEST", "TEXT_INVALID")
    assert api.get(ORDERS, headers=headers()).json()["totalElements"] == before


@pytest.mark.parametrize(
    "line",
    [
        b'{"id":"OP-\\ud800","quantity":1}',
        b'{"id":"OP-TIER","quantity":1,"customFields":[{"customFieldId":"CF-NOTE",'
        b'"customFieldValue":"x\\udfff"}]}',
        b'{"id":"OP-TIER","quantity":1,"metadata":{"\\udc80":1}}',
        b'{"id":"OP-TIER","quantity":1,"customFields":[{"customFieldId":"CF-NOTE",'
        b'"customFieldValue":"a\\u0000b"}]}',
    ],
)
def test_bad_text_anywhere_in_update_lines_is_422_and_changes_nothing(
    api: TestClient, line: bytes
) -> None:
    reference = create_order(api)
    body = b'{"updateOrderCommercialLines":[' + line + b"]}"
    response = api.put(f"{ORDERS}/{reference}/lines", content=body, headers={**headers(), **JSON})
    error(response, 422, "INVALID_REQUEST", "TEXT_INVALID")
    assert get_order(api, reference)["version"] == 1


@pytest.mark.parametrize("query", ["sourceIds=%ED%B2%80", "sourceIds=%FF", "sort=%C0%AF"])
def test_a_query_string_that_is_not_utf8_text_is_422(api: TestClient, query: str) -> None:
    error(api.get(f"{ORDERS}?{query}", headers=headers()), 422, "INVALID_REQUEST", "TEXT_INVALID")


def test_a_path_that_is_not_utf8_text_is_422(api: TestClient) -> None:
    error(api.get(f"{ONE}/260-%ED%B2%80", headers=headers()), 422, "INVALID_REQUEST")


def test_a_bundle_with_a_lone_surrogate_is_refused(api: TestClient) -> None:
    body = b'{"suppliers":[{"externalId":"SUP-\\udc80","name":"x"}]}'
    response = api.post("/v1/operator/data", content=body, headers={**OPS, **JSON})
    error(response, 422, "BUNDLE_INVALID", "TEXT_INVALID")


def test_a_bundle_with_a_nul_character_is_refused(api: TestClient) -> None:
    response = api.post(
        "/v1/operator/data",
        json={"suppliers": [{"externalId": "SUP-\x00", "name": "x"}]},
        headers=OPS,
    )
    error(response, 422, "BUNDLE_INVALID", "TEXT_INVALID")


# --- 2. numbers that are not finite -----------------------------------------------------------


@pytest.fixture
def number_field(client: TestClient) -> str:
    load(
        client,
        {"customFields": [{"externalId": "CF-BUDGET", "entity": "ORDER", "type": "NUMBER"}]},
    )
    return "CF-BUDGET"


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e309", b"-1e400"])
def test_a_number_custom_field_that_is_not_finite_is_422(
    api: TestClient, number_field: str, number: bytes
) -> None:
    body = b'{"customFields":[{"customFieldId":"' + number_field.encode()
    body += b'","customFieldValue":' + number + b"}]}"
    response = api.post(ORDERS, content=body, headers={**headers(), **JSON})
    assert response.status_code == 422, response.text
    assert response.json()["code"] in {"INVALID_REQUEST", "MALFORMED_JSON"}


def test_a_finite_number_custom_field_is_stored(api: TestClient, number_field: str) -> None:
    body = {"customFields": [{"customFieldId": number_field, "customFieldValue": 1.5e300}]}
    response = api.post(ORDERS, json=body, headers=headers())
    assert response.status_code == 201, response.text
    order = get_order(api, response.json()["reference"])
    assert order["customFields"] == {number_field: 1.5e300}


# --- 3. If-Match is parsed as RFC 9110 entity tags --------------------------------------------


def _lines(api: TestClient, reference: str, if_match: str | bytes) -> Any:
    return api.put(
        f"{ORDERS}/{reference}/lines",
        json={"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 3}]},
        headers={**headers(), "If-Match": if_match},  # type: ignore[dict-item]
    )


@pytest.mark.parametrize("tag", ['"²"', '"¹"', '"\u0661"', '"abc"', 'W/"99"', '"2", "7"'])
def test_an_entity_tag_that_is_not_the_current_version_is_412(api: TestClient, tag: str) -> None:
    reference = create_order(api)
    response = _lines(api, reference, tag.encode())
    error(response, 412, "VERSION_MISMATCH")
    assert get_order(api, reference)["version"] == 1


@pytest.mark.parametrize("value", ["1", '"1', '"1" "2"', "W/1", ""])
def test_an_if_match_that_is_not_a_list_of_entity_tags_is_400(api: TestClient, value: str) -> None:
    reference = create_order(api)
    error(_lines(api, reference, value), 400, "INVALID_REQUEST")


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', '"7", "1"', "*"])
def test_a_list_naming_the_current_version_or_a_star_writes(api: TestClient, tag: str) -> None:
    reference = create_order(api)
    assert _lines(api, reference, tag).status_code == 200
    assert get_order(api, reference)["version"] == 2


# --- 4. concurrent bundle loads ---------------------------------------------------------------


def test_concurrent_loads_of_the_same_new_ids_all_succeed(client: TestClient) -> None:
    def post_twice_at_once(bundle: dict[str, Any]) -> list[int]:
        statuses: list[int] = []

        def post() -> None:
            response = client.post("/v1/operator/data", json=bundle, headers=OPS)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return statuses

    for _ in range(5):
        tag = uuid.uuid4().hex[:8].upper()
        bundle = {
            "suppliers": [{"externalId": f"SUP-C-{tag}", "name": "Twice", "status": "ACTIVE"}],
            "variants": [{"externalId": f"V-C-{tag}-{i}", "name": "x"} for i in range(50)],
        }
        assert post_twice_at_once(bundle) == [200, 200]


# --- 5. money stays inside its columns --------------------------------------------------------


def _price_bundle(net: str, tax_rate: str = "20") -> dict[str, Any]:
    return {
        "variants": [{"externalId": "V-RICH", "name": "Expensive"}],
        "offers": [
            {
                "externalId": "OFR-RICH",
                "supplier": "SUP-A",
                "variant": "V-RICH",
                "prices": [
                    {
                        "externalId": "OP-RICH",
                        "currency": "EUR",
                        "taxRate": tax_rate,
                        "tiers": [{"minQuantity": 1, "netUnitPrice": net, "grossUnitPrice": net}],
                    }
                ],
            }
        ],
        "catalogViews": [{"externalId": "CV-ALL", "allVariants": True}],
    }


@pytest.mark.parametrize(
    ("net", "tax_rate"),
    [("99999999999999.9999", "20"), ("1000000000", "20"), ("10", "99999.9999"), ("10", "100.01")],
)
def test_prices_and_rates_past_the_limits_are_refused_at_load(
    api: TestClient, net: str, tax_rate: str
) -> None:
    response = api.post("/v1/operator/data", json=_price_bundle(net, tax_rate), headers=OPS)
    error(response, 422, "BUNDLE_INVALID")


def test_an_order_whose_total_would_pass_the_limit_is_422_and_unchanged(api: TestClient) -> None:
    load(api, _price_bundle("999999999.9999", "100"))
    reference = create_order(api)
    assert put_lines(api, reference, [{"id": "OP-RICH", "quantity": 10}]).status_code == 200
    before = get_order(api, reference)
    response = put_lines(api, reference, [{"id": "OP-RICH", "quantity": 1_000_000_000}])
    error(response, 422, "AMOUNT_TOO_LARGE")
    assert get_order(api, reference) == before
    assert before["totalGross"] == "20000000000.00"


# --- 11. an inactive account reads but does not write -----------------------------------------


@pytest.fixture
def inactive_user(client: TestClient) -> Iterator[str]:
    """U-INACTIVE of ACC-INACTIVE, with one order created while the account was active."""
    account = {"externalId": "ACC-INACTIVE", "name": "Dormant", "stores": ["S1"]}
    user = {
        "externalId": "U-INACTIVE",
        "clientType": "ACCOUNT",
        "apiKey": KEY_INACTIVE,
        "accounts": ["ACC-INACTIVE"],
        "stores": ["S1"],
    }
    load(client, {"accounts": [{**account, "status": "ACTIVE"}], "users": [user]})
    reference = create_order(client, key=KEY_INACTIVE)
    assert (
        put_lines(
            client, reference, [{"id": "OP-TIER", "quantity": 2}], key=KEY_INACTIVE
        ).status_code
        == 200
    )
    load(client, {"accounts": [{**account, "status": "INACTIVE"}]})
    yield reference
    load(client, {"accounts": [{**account, "status": "ACTIVE"}]})


def test_an_inactive_account_cannot_create_an_order(api: TestClient, inactive_user: str) -> None:
    response = api.post(ORDERS, json={}, headers=headers(KEY_INACTIVE))
    error(response, 403, "ACCOUNT_INACTIVE")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "PUT",
            "/v2/shop/commercial-orders/{ref}/lines",
            {"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 5}]},
        ),
        ("DELETE", "/v2/shop/commercial-orders/{ref}/lines", [{"offerPriceId": "OP-TIER"}]),
        ("PUT", "/v1/shop/commercial-orders/{ref}/sync", None),
        ("PUT", "/v1/shop/commercial-orders/{ref}/created", None),
    ],
)
def test_an_inactive_account_cannot_change_its_orders_but_reads_them(
    api: TestClient, inactive_user: str, method: str, path: str, body: Any
) -> None:
    reference = inactive_user
    response = api.request(
        method, path.format(ref=reference), json=body, headers=headers(KEY_INACTIVE)
    )
    error(response, 403, "ACCOUNT_INACTIVE")
    order = get_order(api, reference, key=KEY_INACTIVE)
    assert order["version"] == 2
    listed = api.get(ORDERS, headers=headers(KEY_INACTIVE))
    assert [o["reference"] for o in listed.json()["content"]] == [reference]


# --- 12. a header this API reads, given twice -------------------------------------------------


@pytest.mark.parametrize("name", ["dj-api-key", "dj-client", "If-Match", "customer-account-id"])
def test_a_read_header_given_twice_is_400(api: TestClient, name: str) -> None:
    reference = create_order(api)
    raw = [(k, v) for k, v in headers().items()] + [(name, "x"), (name, "y")]
    if name in ("dj-api-key", "dj-client"):
        raw = [(k, v) for k, v in raw if k != name] + [(name, headers()[name])] * 2
    response = api.get(f"{ONE}/{reference}", headers=raw)
    error(response, 400, "DUPLICATE_HEADER")


def test_two_different_api_keys_never_authenticate_either(api: TestClient) -> None:
    raw = [("dj-client", "ACCOUNT"), ("dj-api-key", KEY_1), ("dj-api-key", KEY_OPS)]
    error(api.get(ORDERS, headers=raw), 400, "DUPLICATE_HEADER")
