"""What the tests of real-time pricing and of the CPQ push share: an app of their own on the
shared test database (with short outside-call budgets), the tenant switched to an outside
system and always switched back, catalog changes undone, and a write to an order made
behind the app's back through a second connection.

The session `app` fixture shares the database and its catalog (tests/bundle.py) with every
other test file, so whatever is changed here is put back: the tenant returns to STANDARD
with no pricing or CPQ URL, the catalog to tests/bundle.py, and orders are deleted.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ordersync.api.app import create_app
from ordersync.settings import Settings
from tests.api import headers, load
from tests.bundle import catalog_bundle, special_offers

ONE = "/v1/shop/commercial-orders"
LINES = "/v2/shop/commercial-orders"
STANDARD_SETTINGS: dict[str, Any] = {
    "pricingMode": "STANDARD",
    "pricingUrl": None,
    "cpqUrl": None,
}
# How long a second connection waits for a lock before it calls the order locked: far
# below the simulated latency of the outside system, so a lock held while it answers shows.
SHORT_LOCK_WAIT_S = 0.25


def outside_app(database_url: str, **settings: Any) -> FastAPI:
    """An app of its own on the shared database, with `settings` (budgets, breaker delay)."""
    return create_app(Settings(database_url=database_url, max_body_bytes=262_144, **settings))


@contextmanager
def app_client(application: FastAPI) -> Iterator[TestClient]:
    """A client of the app for a whole module; the lifespan closes its gateways and pool."""
    with TestClient(application) as client:
        yield client


def set_tenant(client: TestClient, **settings: Any) -> None:
    """Load a bundle of settings only (camelCase keys); what it does not name stays."""
    load(client, {"settings": settings})


def restore_tenant(client: TestClient) -> None:
    """STANDARD, no pricing URL, no CPQ URL: what every other test file expects."""
    load(client, {"settings": STANDARD_SETTINGS})


def clear_orders(application: FastAPI) -> None:
    with application.state.engine.begin() as conn:
        tables = ("cpq_push_leases", "order_history", "order_lines", "logistic_orders")
        for table in (*tables, "commercial_orders"):
            conn.execute(text(f"DELETE FROM {table}"))


class CatalogChanges:
    """Changes to the shared catalog; `undo()` loads tests/bundle.py's suppliers and special
    offers again."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def offer(self, external_id: str, price: dict[str, Any] | None = None, **changes: Any) -> None:
        """Change the offer (e.g. `stock`) and its one offer price (`price`)."""
        offer = next(o for o in special_offers() if o["externalId"] == external_id)
        offer.update(changes)
        offer["prices"][0].update(price or {})
        load(self.client, {"offers": [offer]})

    def supplier(self, external_id: str, status: str) -> None:
        supplier = next(s for s in catalog_bundle()["suppliers"] if s["externalId"] == external_id)
        load(self.client, {"suppliers": [{**supplier, "status": status}]})

    def undo(self) -> None:
        load(self.client, {"suppliers": catalog_bundle()["suppliers"], "offers": special_offers()})


def new_order(client: TestClient, lines: list[dict[str, Any]], **extra: Any) -> str:
    created = client.post(LINES, json={}, headers=headers())
    assert created.status_code == 201, created.text
    reference: str = created.json()["reference"]
    if lines:
        answer = put_lines(client, reference, lines, **extra)
        assert answer.status_code == 200, answer.text
    return reference


def put_lines(
    client: TestClient,
    reference: str,
    lines: list[dict[str, Any]],
    extra_headers: dict[str, str] | None = None,
    **body: Any,
) -> Any:
    return client.put(
        f"{LINES}/{reference}/lines",
        json={"updateOrderCommercialLines": lines, **body},
        headers={**headers(), **(extra_headers or {})},
    )


def sync(client: TestClient, reference: str) -> Any:
    return client.put(f"{ONE}/{reference}/sync", headers=headers())


def order_view(client: TestClient, reference: str) -> dict[str, Any]:
    """The full GET body and its ETag: what "the order is identical" compares."""
    response = client.get(f"{ONE}/{reference}", headers=headers())
    assert response.status_code == 200, response.text
    return {"etag": response.headers["etag"], "body": response.json()}


def lines_of(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The order's lines by offer price external id."""
    return {
        line["offerPriceExternalId"]: line
        for lo in order["logisticOrders"]
        for line in lo["lines"]
    }


def warnings_of(response: Any) -> list[tuple[str, str, bool]]:
    return sorted((w["id"], w["code"], w["blocked"]) for w in response.json())


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


def write_order_directly(
    database_url: str, reference: str, custom_fields: dict[str, Any]
) -> float:
    """Set the order's custom fields and move its version through a second connection that
    gives up on a lock after SHORT_LOCK_WAIT_S (PostgreSQL: lock_timeout on the row; SQLite:
    the busy timeout of BEGIN IMMEDIATE, the database's one write lock). Returns the seconds
    the write took; raises if the order was locked."""
    started = time.monotonic()
    url = make_url(database_url)
    value = json.dumps(custom_fields)
    if url.get_backend_name() == "sqlite":
        changed = _write_sqlite(str(url.database), reference, value)
    else:
        changed = _write_postgresql(database_url, reference, value)
    assert changed == 1
    return time.monotonic() - started


def _write_sqlite(path: str, reference: str, custom_fields: str) -> int:
    conn = sqlite3.connect(path, timeout=SHORT_LOCK_WAIT_S, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        changed = conn.execute(
            "UPDATE commercial_orders SET custom_fields = ?, version = version + 1 "
            "WHERE reference = ?",
            (custom_fields, reference),
        ).rowcount
        conn.execute("COMMIT")
        return changed
    finally:
        conn.close()


def _write_postgresql(database_url: str, reference: str, custom_fields: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"SET LOCAL lock_timeout = '{int(SHORT_LOCK_WAIT_S * 1000)}ms'"))
            return conn.execute(
                text(
                    "UPDATE commercial_orders SET custom_fields = CAST(:cf AS JSON), "
                    "version = version + 1 WHERE reference = :ref"
                ),
                {"cf": custom_fields, "ref": reference},
            ).rowcount
    finally:
        engine.dispose()


def wait_for(condition: Any, within_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
