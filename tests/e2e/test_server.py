"""The real server process, set up and called as a user would from the README."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server_process import ServerDidNotStart, served

ROOT = Path(__file__).resolve().parents[2]
DEMO_BUNDLE = ROOT / "data" / "demo-bundle.json"
BUYER = {"dj-client": "ACCOUNT", "dj-api-key": "demo-key-buildco"}

pytestmark = pytest.mark.e2e


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ordersync.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("e2e") / "ordersync.db"
    env = {**os.environ, "ORDERSYNC_DATABASE_URL": f"sqlite:///{db}"}
    for args in (("migrate",), ("load", str(DEMO_BUNDLE))):
        done = _cli(*args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    try:
        with served({"ORDERSYNC_DATABASE_URL": f"sqlite:///{db}"}) as base:
            yield base
    except ServerDidNotStart as exc:
        pytest.fail(f"server did not start:\n{exc}")


def test_a_buyer_builds_synchronises_and_places_an_order_over_http(server: str) -> None:
    with httpx.Client(base_url=server, headers=BUYER, timeout=10) as http:
        created = http.post("/v2/shop/commercial-orders", json={})
        assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        lines = http.put(
            f"/v2/shop/commercial-orders/{reference}/lines",
            json={
                "updateOrderCommercialLines": [
                    {"id": "OP-V-0001-ACME", "quantity": 120},
                    {"id": "OP-V-0002-ACME", "quantity": 15},
                ]
            },
        )
        assert lines.status_code == 200, lines.text
        assert [w["code"] for w in lines.json()] == ["QUANTITY_ADJUSTED_STEP"]
        order = http.get(f"/v1/shop/commercial-orders/{reference}")
        assert order.status_code == 200
        assert order.headers["etag"] == f'"{order.json()["version"]}"'
        assert order.json()["lineCount"] == 2
        assert http.put(f"/v1/shop/commercial-orders/{reference}/sync").status_code == 204
        placed = http.put(f"/v1/shop/commercial-orders/{reference}/created")
        assert placed.status_code == 200
        assert placed.json()["isValidated"] is True


def test_the_server_answers_bad_requests_with_the_common_error_body(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        unauthenticated = http.get("/v1/shop/commercial-orders/000-000-0000000")
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["code"] == "AUTHENTICATION_REQUIRED"
        malformed = http.post(
            "/v2/shop/commercial-orders",
            headers={**BUYER, "content-type": "application/json"},
            content=b"{not json",
        )
        assert malformed.status_code == 422
        assert malformed.json()["code"] == "MALFORMED_JSON"
        docs = http.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
