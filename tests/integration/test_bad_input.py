"""Bad requests get a 4xx in the common error body, never a 500, and leave the server
working and the order untouched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import create_order, get_order, headers
from tests.bundle import KEY_OPS

LIMIT = 262_144  # max_body_bytes of the test app
ONE = "/v1/shop/commercial-orders"
JSON = {"content-type": "application/json"}


@pytest.fixture
def api(client: TestClient) -> Iterator[TestClient]:
    """A client that sees a server error as a 500 answer instead of an exception; after the
    test, the server must still serve an ordinary create-and-read."""
    yield TestClient(client.app, raise_server_exceptions=False)
    reference = create_order(client)
    assert get_order(client, reference)["reference"] == reference


def on_postgresql(client: TestClient) -> bool:
    return str(client.app.state.settings.database_url).startswith("postgresql")  # type: ignore[attr-defined]


def common_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "errors"}
    assert (body["status"], body["code"]) == (status, code)
    assert isinstance(body["message"], str) and body["message"]
    for item in body["errors"]:
        assert set(item) == {"code", "field", "message"}
    return body


def lines_url(reference: str) -> str:
    return f"/v2/shop/commercial-orders/{reference}/lines"


# --- malformed and mistyped bodies ----------------------------------------------------------


def test_malformed_json_is_422_malformed_json(api: TestClient) -> None:
    reference = create_order(api)
    response = api.put(
        lines_url(reference),
        content=b'{"updateOrderCommercialLines": [',
        headers={**headers(), **JSON},
    )
    body = common_error(response, 422, "MALFORMED_JSON")
    assert body["errors"][0]["code"] == "MALFORMED_JSON"
    assert body["errors"][0]["field"] == "body"
    assert get_order(api, reference)["version"] == 1


def test_malformed_json_on_create_is_422_malformed_json(api: TestClient) -> None:
    response = api.post(
        "/v2/shop/commercial-orders", content=b"{'isFull': true}", headers={**headers(), **JSON}
    )
    common_error(response, 422, "MALFORMED_JSON")


def test_a_body_that_is_not_utf8_is_422_malformed_json(api: TestClient) -> None:
    reference = create_order(api)
    response = api.put(
        lines_url(reference),
        content=b'{"updateOrderCommercialLines": "\xff"}',
        headers={**headers(), **JSON},
    )
    common_error(response, 422, "MALFORMED_JSON")


def test_a_body_that_is_not_utf8_is_refused_without_a_server_error(api: TestClient) -> None:
    reference = create_order(api)
    response = api.put(
        lines_url(reference),
        content=b'{"updateOrderCommercialLines": "\xff"}',
        headers={**headers(), **JSON},
    )
    assert 400 <= response.status_code < 500
    assert get_order(api, reference)["version"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": "ten"}]},
            "updateOrderCommercialLines[0].quantity",
        ),
        (
            {"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 1.5}]},
            "updateOrderCommercialLines[0].quantity",
        ),
        (
            {"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": -1}]},
            "updateOrderCommercialLines[0].quantity",
        ),
        (
            {"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": True}]},
            "updateOrderCommercialLines[0].quantity",
        ),
        (
            {"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 10**12}]},
            "updateOrderCommercialLines[0].quantity",
        ),
        (
            {"updateOrderCommercialLines": [{"id": "OP-TIER"}]},
            "updateOrderCommercialLines[0].quantity",
        ),
        (
            {"updateOrderCommercialLines": [{"id": 42, "quantity": 1}]},
            "updateOrderCommercialLines[0].id",
        ),
        (
            {"updateOrderCommercialLines": [{"id": "", "quantity": 1}]},
            "updateOrderCommercialLines[0].id",
        ),
        ({"updateOrderCommercialLines": [{"quantity": 1}]}, "updateOrderCommercialLines[0].id"),
        (
            {"updateOrderCommercialLines": {"id": "OP-TIER", "quantity": 1}},
            "updateOrderCommercialLines",
        ),
        ({"updateOrderCommercialLines": "OP-TIER"}, "updateOrderCommercialLines"),
        ({"updateOrderCommercialLines": []}, "updateOrderCommercialLines"),
        ({}, "updateOrderCommercialLines"),
        (
            {"lineType": "SKU", "updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 1}]},
            "lineType",
        ),
        (
            {
                "lineIdType": "DJUST_ID",
                "updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 1}],
            },
            "lineIdType",
        ),
        (
            {
                "customFieldIdType": "NAME",
                "updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 1}],
            },
            "customFieldIdType",
        ),
        (
            {
                "updateOrderCommercialLines": [
                    {"id": "OP-TIER", "quantity": 1, "updateAction": "SET_QUANTITY"}
                ]
            },
            "updateOrderCommercialLines[0].updateAction",
        ),
        (
            {
                "updateOrderCommercialLines": [
                    {"id": "OP-TIER", "quantity": 1, "customFields": "CF-NOTE"}
                ]
            },
            "updateOrderCommercialLines[0].customFields",
        ),
        (
            {
                "metadata": "not an object",
                "updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 1}],
            },
            "metadata",
        ),
        ([{"id": "OP-TIER", "quantity": 1}], "body"),
        ("OP-TIER", "body"),
        (None, "body"),
    ],
)
def test_a_mistyped_update_lines_body_is_422_naming_the_field(
    api: TestClient, body: Any, field: str
) -> None:
    reference = create_order(api)
    response = api.put(lines_url(reference), json=body, headers=headers())
    errors = common_error(response, 422, "INVALID_REQUEST")["errors"]
    assert field in [e["field"] for e in errors], errors
    assert all(e["code"] == "INVALID_REQUEST" for e in errors)
    order = get_order(api, reference)
    assert (order["version"], order["logisticOrders"]) == (1, [])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"isFull": "yes"}, "isFull"),
        ({"isFull": 1}, "isFull"),
        ({"sourceType": "OPERATION", "sourceId": 7}, "sourceId"),
        ({"customFields": "CF-PO"}, "customFields"),
        ({"customFields": [{"customFieldValue": "x"}]}, "customFields[0].customFieldId"),
        ({"customFieldIdType": "NAME"}, "customFieldIdType"),
        ([], "body"),
        ("order", "body"),
    ],
)
def test_a_mistyped_create_body_is_422_naming_the_field(
    api: TestClient, body: Any, field: str
) -> None:
    response = api.post("/v2/shop/commercial-orders", json=body, headers=headers())
    errors = common_error(response, 422, "INVALID_REQUEST")["errors"]
    assert field in [e["field"] for e in errors], errors


def test_an_unknown_query_value_is_422(api: TestClient) -> None:
    reference = create_order(api)
    response = api.get(f"{ONE}/{reference}?idType=NAME", headers=headers())
    assert common_error(response, 422, "INVALID_REQUEST")["errors"][0]["field"] == "idType"


# --- body size ------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(api: TestClient) -> None:
    reference = create_order(api)
    response = api.put(
        lines_url(reference), content=b" " * (LIMIT + 1), headers={**headers(), **JSON}
    )
    common_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert get_order(api, reference)["version"] == 1


def test_a_valid_update_over_the_limit_is_413_and_changes_nothing(api: TestClient) -> None:
    reference = create_order(api)
    note = "n" * 600
    lines = [
        {
            "id": f"OP-{i:04d}",
            "quantity": 1,
            "customFields": [{"customFieldId": "CF-NOTE", "customFieldValue": note}],
        }
        for i in range(1, 501)
    ]
    response = api.put(
        lines_url(reference), json={"updateOrderCommercialLines": lines}, headers=headers()
    )
    common_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert get_order(api, reference)["logisticOrders"] == []


def _chunks(total: int, size: int = 16_384) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b" " * min(size, total - sent)
        sent += len(chunk)
        yield chunk


def test_a_chunked_body_is_not_limited_by_a_missing_content_length(api: TestClient) -> None:
    reference = create_order(api)
    response = api.put(
        lines_url(reference), content=_chunks(LIMIT + 1), headers={**headers(), **JSON}
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert 400 <= response.status_code < 500, response.text
    assert get_order(api, reference)["version"] == 1


def test_a_chunked_body_over_the_limit_is_413(api: TestClient) -> None:
    reference = create_order(api)
    response = api.put(
        lines_url(reference), content=_chunks(LIMIT + 1), headers={**headers(), **JSON}
    )
    common_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_a_chunked_body_under_the_limit_is_read(api: TestClient) -> None:
    reference = create_order(api)
    payload = b'{"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 3}]}'
    response = api.put(
        lines_url(reference),
        content=iter([payload[:20], payload[20:]]),
        headers={**headers(), **JSON},
    )
    assert response.status_code == 200, response.text
    assert get_order(api, reference)["lineCount"] == 1


# --- routes and methods ---------------------------------------------------------------------


def test_an_unknown_route_is_404_in_the_common_body(api: TestClient) -> None:
    common_error(api.get("/v1/shop/no-such-thing", headers=headers()), 404, "NOT_FOUND")
    common_error(api.get("/", headers=headers()), 404, "NOT_FOUND")


def test_a_wrong_method_is_405_in_the_common_body(api: TestClient) -> None:
    reference = create_order(api)
    common_error(
        api.patch("/v2/shop/commercial-orders", headers=headers()), 405, "METHOD_NOT_ALLOWED"
    )
    common_error(api.post(f"{ONE}/{reference}/sync", headers=headers()), 405, "METHOD_NOT_ALLOWED")


# --- identifiers no stored order can have ---------------------------------------------------


@pytest.mark.parametrize("order_id", ["99999999999999999999999", "99999999999", "²", "-1"])
def test_a_djust_id_no_order_can_have_is_404(api: TestClient, order_id: str) -> None:
    response = api.get(f"{ONE}/{order_id}?idType=DJUST_ID", headers=headers())
    common_error(response, 404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize("id_type", ["REFERENCE", "EXTERNAL_ID", "DJUST_ID"])
def test_a_nul_character_in_the_url_is_422(api: TestClient, id_type: str) -> None:
    response = api.get(f"{ONE}/ab%00c?idType={id_type}", headers=headers())
    common_error(response, 422, "INVALID_REQUEST")
    response = api.get("/v2/shop/commercial-orders?sourceIds=a%00b", headers=headers())
    common_error(response, 422, "INVALID_REQUEST")


def test_writes_to_a_reference_with_a_nul_character_are_422(api: TestClient) -> None:
    common_error(
        api.put(
            lines_url("ab%00c"),
            json={"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 1}]},
            headers=headers(),
        ),
        422,
        "INVALID_REQUEST",
    )
    common_error(api.put(f"{ONE}/ab%00c/sync", headers=headers()), 422, "INVALID_REQUEST")
    common_error(api.put(f"{ONE}/ab%00c/created", headers=headers()), 422, "INVALID_REQUEST")


@pytest.mark.parametrize("line_id", ["OP-\x00TIER", "OP-\x1fTIER", "OP-\x7fTIER"])
def test_a_line_id_with_a_control_character_is_422(api: TestClient, line_id: str) -> None:
    reference = create_order(api)
    response = api.put(
        lines_url(reference),
        json={"updateOrderCommercialLines": [{"id": line_id, "quantity": 1}]},
        headers=headers(),
    )
    common_error(response, 422, "INVALID_REQUEST")
    assert get_order(api, reference)["version"] == 1


def test_an_operation_id_with_a_nul_character_is_422(api: TestClient) -> None:
    response = api.post(
        "/v2/shop/commercial-orders",
        headers=headers(),
        json={"sourceType": "OPERATION", "sourceId": "OPN-\x00PUB"},
    )
    common_error(response, 422, "INVALID_REQUEST")


def test_a_source_id_with_a_nul_character_is_422(api: TestClient) -> None:
    response = api.post(
        "/v2/shop/commercial-orders",
        json={"sourceType": "OPERATION", "sourceId": "OPN-\x00PUB"},
        headers=headers(),
    )
    common_error(response, 422, "INVALID_REQUEST")


def test_the_operator_route_does_not_fail_on_a_nul_character(api: TestClient) -> None:
    response = api.get(
        "/v1/operator/commercial-orders/ab%00c", headers=headers(KEY_OPS, "OPERATOR")
    )
    common_error(response, 422, "INVALID_REQUEST")
