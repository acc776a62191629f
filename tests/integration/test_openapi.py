"""The OpenAPI document describes every endpoint, each with an example."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

EXPECTED = {
    ("post", "/v2/shop/commercial-orders"),
    ("get", "/v2/shop/commercial-orders"),
    ("get", "/v1/shop/commercial-orders/{order_id}"),
    ("put", "/v2/shop/commercial-orders/{reference}/lines"),
    ("delete", "/v2/shop/commercial-orders/{reference}/lines"),
    ("put", "/v1/shop/commercial-orders/{reference}/sync"),
    ("put", "/v1/shop/commercial-orders/{reference}/created"),
    ("post", "/v1/shop/commercial-orders/{reference}/actions/synchronize"),
    ("get", "/v1/shop/commercial-orders/{reference}/history"),
    ("get", "/v1/operator/commercial-orders/{reference}/history"),
    ("post", "/v1/operator/import-jobs"),
    ("get", "/v1/operator/import-jobs/{job_id}"),
    ("get", "/v1/operator/import-jobs/{job_id}/report"),
    ("get", "/v1/operator/orders/export"),
    ("get", "/v1/operator/commercial-orders/{reference}"),
    ("get", "/v1/operator/logistic-orders"),
    ("patch", "/v1/operator/logistic-orders/{reference}"),
    ("post", "/v1/operator/data"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}
UNAUTHENTICATED = {("get", "/healthz"), ("get", "/readyz")}


def test_openapi_document_lists_every_endpoint_with_an_example(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = {(m, p): op for p, ops in spec["paths"].items() for m, op in ops.items()}
    assert set(operations) == EXPECTED
    for key, operation in operations.items():
        assert "example" in json.dumps(operation), key
        if key not in UNAUTHENTICATED:
            assert "dj-api-key" in json.dumps(operation["parameters"]), key


def test_interactive_docs_are_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text.lower()
