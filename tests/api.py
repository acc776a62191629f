"""Small helpers to call the HTTP API in tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.bundle import KEY_1, KEY_OPS


def headers(key: str = KEY_1, client_type: str = "ACCOUNT", **extra: str) -> dict[str, str]:
    out = {"dj-client": client_type, "dj-api-key": key}
    out.update({k.replace("_", "-"): v for k, v in extra.items()})
    return out


def create_order(client: TestClient, key: str = KEY_1, **body: Any) -> str:
    response = client.post("/v2/shop/commercial-orders", json=body, headers=headers(key))
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


def put_lines(
    client: TestClient, reference: str, lines: list[dict[str, Any]], key: str = KEY_1, **body: Any
) -> Any:
    return client.put(
        f"/v2/shop/commercial-orders/{reference}/lines",
        json={"updateOrderCommercialLines": lines, **body},
        headers=headers(key),
    )


def get_order(client: TestClient, reference: str, key: str = KEY_1) -> dict[str, Any]:
    response = client.get(f"/v1/shop/commercial-orders/{reference}", headers=headers(key))
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def load(client: TestClient, bundle: dict[str, Any]) -> None:
    response = client.post("/v1/operator/data", json=bundle, headers=headers(KEY_OPS, "OPERATOR"))
    assert response.status_code == 200, response.text
