"""The CPQ push (SPEC §3.3, §5.2) end to end: ordersync's own CPQ client, over real HTTP,
against the shipped CPQ simulator.

Proves: who may push; the first push creates the transaction and later ones update it; what
is stored and answered (the full order, its ETag the bumped version) while the order's own
prices stay; CPQ disabled; every failure a 502 leaving the order identical; the idempotency
key, so a create that timed out is never made twice; one push in flight per order, and a
lease whose holder died blocks the order no longer than it lasts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert

from ordersync.adapters.db.tables import cpq_push_leases
from tests.api import headers
from tests.bundle import KEY_2, KEY_OPS, KEY_SUPPLIER
from tests.integration.outside_systems import (
    ONE,
    app_client,
    assert_error,
    clear_orders,
    lines_of,
    new_order,
    order_view,
    outside_app,
    restore_tenant,
    set_tenant,
)
from tests.server_process import free_port
from tests.simulator_servers import SimulatorServer, cpq_simulator

BUDGET_S = 1.0  # the CPQ client's total budget in this module
LEASE_MARGIN_S = 1.0  # a push lease lasts BUDGET_S + this
LINES = [
    {"id": "OP-SYNC", "quantity": 10},
    {"id": "OP-TIER", "quantity": 150},
    {"id": "OP-B", "quantity": 3},
]


@pytest.fixture(scope="module")
def cpq_app(app: FastAPI, database_url: str) -> FastAPI:
    """Its own app (its breakers and budgets are this module's); `app` loads the catalog."""
    return outside_app(
        database_url,
        cpq_timeout_s=BUDGET_S,
        cpq_lease_margin_s=LEASE_MARGIN_S,
        pricing_breaker_reset_s=0.5,
    )


@pytest.fixture(scope="module")
def http(cpq_app: FastAPI) -> Iterator[TestClient]:
    with app_client(cpq_app) as client:
        yield client


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with cpq_simulator() as server:
        yield server


@pytest.fixture
def cpq(simulator: SimulatorServer) -> Iterator[SimulatorServer]:
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture
def client(http: TestClient, cpq_app: FastAPI, cpq: SimulatorServer) -> Iterator[TestClient]:
    """The module's client, the tenant pushing to the simulator; back to STANDARD with no
    pricing or CPQ URL, and no order left, whatever the test did."""
    set_tenant(http, cpqUrl=cpq.base_url)
    try:
        yield http
    finally:
        restore_tenant(http)
        clear_orders(cpq_app)


def push(client: TestClient, reference: str, **header: str) -> Any:
    return client.post(f"{ONE}/{reference}/actions/synchronize", headers=headers(**header))


def push_as(client: TestClient, reference: str, key: str, client_type: str) -> Any:
    return client.post(f"{ONE}/{reference}/actions/synchronize", headers=headers(key, client_type))


def by_path(cpq: SimulatorServer) -> dict[str, int]:
    paths: dict[str, int] = cpq.stats()["byPath"]
    return paths


def idempotency_key(cpq: SimulatorServer) -> str:
    key: str = cpq.stats()["lastRequest"]["headers"]["Idempotency-Key"]
    return key


def own_fields(order: dict[str, Any]) -> dict[str, Any]:
    """The order without what a push changes (its CPQ fields, version, update time)."""
    cpq_keys = {"cpqTxnLineNumber", "cpqUnitPrice", "cpqCharges", "syncInfo"}
    return {
        **{k: v for k, v in order.items() if k not in {"cpq", "version", "updatedAt"}},
        "logisticOrders": [
            {
                **lo,
                "lines": [
                    {k: v for k, v in ln.items() if k not in cpq_keys} for ln in lo["lines"]
                ],
            }
            for lo in order["logisticOrders"]
        ],
    }


# --- who may push ---------------------------------------------------------------------------


def test_only_the_accounts_own_users_may_push_its_order(
    client: TestClient, cpq: SimulatorServer
) -> None:
    reference = new_order(client, LINES)
    before = order_view(client, reference)

    assert push_as(client, reference, KEY_OPS, "OPERATOR").status_code == 403
    assert push_as(client, reference, KEY_SUPPLIER, "SUPPLIER").status_code == 403
    assert_error(push_as(client, reference, KEY_2, "ACCOUNT"), 404, "ORDER_NOT_FOUND")
    assert_error(push(client, "000-000-0000000"), 404, "ORDER_NOT_FOUND")

    assert cpq.stats()["calls"] == 0
    assert order_view(client, reference) == before


def test_cpq_disabled_is_422_and_nothing_is_sent(client: TestClient, cpq: SimulatorServer) -> None:
    reference = new_order(client, LINES)
    set_tenant(client, cpqUrl=None)
    before = order_view(client, reference)

    assert_error(push(client, reference), 422, "CPQ_DISABLED")

    assert cpq.stats()["calls"] == 0
    assert order_view(client, reference) == before


# --- create, then update --------------------------------------------------------------------


def test_the_first_push_creates_the_transaction_and_the_answer_is_the_stored_order(
    client: TestClient, cpq: SimulatorServer
) -> None:
    reference = new_order(client, LINES)
    before = order_view(client, reference)
    version = before["body"]["version"]

    response = push(client, reference)

    assert response.status_code == 200, response.text
    pushed = response.json()
    assert pushed == order_view(client, reference)["body"]  # the full GET shape
    assert response.headers["etag"] == f'"{version + 1}"'
    assert pushed["version"] == version + 1
    assert pushed["cpq"]["transactionId"].startswith("TXN-")
    assert pushed["cpq"]["syncStatus"] == "SYNCED"
    assert datetime.fromisoformat(pushed["cpq"]["lastSyncedAt"]) > datetime.now(UTC) - timedelta(
        minutes=1
    )
    lines = lines_of(pushed)
    assert sorted(ln["cpqTxnLineNumber"] for ln in lines.values()) == ["1", "2", "3"]
    for line in lines.values():
        assert line["cpqUnitPrice"] == line["netUnitPrice"]  # what the simulator answers
        handling = f"{0.5 * line['quantity']:.2f}"
        assert line["cpqCharges"] == [
            {"name": "Handling", "unitPrice": "0.50", "amount": handling, "priceType": "oneTime"}
        ]
        assert line["syncInfo"] == {"status": "completed", "errorMessage": None}
    # The order's own prices, totals and lines did not change.
    assert own_fields(pushed) == own_fields(before["body"])
    assert by_path(cpq) == {"POST /transactions": 1, "PUT /transactions/{transactionId}": 0}
    sent = cpq.stats()["lastRequest"]["body"]
    assert sent["reference"] == reference
    assert sent["accountExternalId"] == "ACC-1"
    assert Decimal(sent["totalNet"]) == Decimal(before["body"]["totalNet"])
    assert {ln["lineId"] for ln in sent["lines"]} == {str(ln["id"]) for ln in lines.values()}
    key = idempotency_key(cpq)
    assert reference in key and key.endswith(str(version))


def test_later_pushes_update_the_same_transaction(
    client: TestClient, cpq: SimulatorServer
) -> None:
    reference = new_order(client, LINES)
    first = push(client, reference).json()
    first_key = idempotency_key(cpq)
    # A line added since takes the next line number; the others keep theirs.
    added = client.put(
        f"/v2/shop/commercial-orders/{reference}/lines",
        json={"updateOrderCommercialLines": [{"id": "OP-0001", "quantity": 2}]},
        headers=headers(),
    )
    assert added.status_code == 200, added.text

    response = push(client, reference)

    assert response.status_code == 200, response.text
    second = response.json()
    assert by_path(cpq) == {"POST /transactions": 1, "PUT /transactions/{transactionId}": 1}
    assert second["cpq"]["transactionId"] == first["cpq"]["transactionId"]
    assert response.headers["etag"] == f'"{second["version"]}"'
    assert second["version"] == first["version"] + 2  # the line added, then the push
    numbers = {op: ln["cpqTxnLineNumber"] for op, ln in lines_of(second).items()}
    assert numbers == {
        **{op: ln["cpqTxnLineNumber"] for op, ln in lines_of(first).items()},
        "OP-0001": "4",
    }
    assert idempotency_key(cpq) != first_key  # another version, another key
    assert second["cpq"]["lastSyncedAt"] >= first["cpq"]["lastSyncedAt"]


def test_a_placed_order_can_be_pushed(client: TestClient, cpq: SimulatorServer) -> None:
    reference = new_order(client, LINES)
    placed = client.put(f"{ONE}/{reference}/created", headers=headers())
    assert placed.status_code == 200, placed.text

    response = push(client, reference)

    assert response.status_code == 200, response.text
    assert response.json()["isValidated"] is True
    assert response.json()["cpq"]["syncStatus"] == "SYNCED"
    assert response.json()["version"] == placed.json()["version"] + 1
    assert own_fields(response.json()) == own_fields(placed.json())


# --- failures: 502 and the order unchanged --------------------------------------------------

FAULTS: dict[str, dict[str, Any]] = {
    "down-503": {"status": 503},
    "http-500": {"status": 500},
    "timeout": {"latency_ms": int(BUDGET_S * 1000) + 800},
    "hang": {"hang": True},
    "malformed-json": {"malformed": True},
    "missing-line": {"missing_line": True},
    "unknown-line-id": {"unknown_line": True},
    "negative-price": {"negative_price": True},
    "connection-refused": {},  # a CPQ URL on a port nobody listens on
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_cpq_failure_is_502_and_leaves_the_order_unchanged(
    client: TestClient, cpq: SimulatorServer, fault: str
) -> None:
    fresh = new_order(client, LINES)
    pushed_before = new_order(client, [{"id": "OP-SYNC", "quantity": 1}])
    assert push(client, pushed_before).status_code == 200
    if fault == "connection-refused":
        set_tenant(client, cpqUrl=f"http://127.0.0.1:{free_port()}")
    else:
        cpq.control(**FAULTS[fault])

    for reference in (fresh, pushed_before):  # a create, then an update
        before = order_view(client, reference)
        started = time.monotonic()
        assert_error(push(client, reference), 502, "CPQ_UNAVAILABLE")
        assert time.monotonic() - started < BUDGET_S + 1.0
        after = order_view(client, reference)
        assert after == before  # same version, same transactionId, same lines
    assert order_view(client, fresh)["body"]["cpq"]["transactionId"] is None
    assert order_view(client, pushed_before)["body"]["cpq"]["transactionId"] is not None

    # CPQ back: the same orders push (and the lease of the failed push is gone).
    cpq.reset()
    set_tenant(client, cpqUrl=cpq.base_url)
    for reference in (fresh, pushed_before):
        assert push(client, reference).status_code == 200


def test_a_create_that_timed_out_is_not_made_twice_on_retry(
    app: FastAPI, database_url: str
) -> None:
    # A simulator of its own, so its transactions are numbered from 1 here.
    own_app = outside_app(database_url, cpq_timeout_s=BUDGET_S, cpq_lease_margin_s=LEASE_MARGIN_S)
    with cpq_simulator() as cpq, app_client(own_app) as client:
        set_tenant(client, cpqUrl=cpq.base_url)
        try:
            reference = new_order(client, LINES)
            version = order_view(client, reference)["body"]["version"]
            cpq.control(latency_ms=int(BUDGET_S * 1000) + 800)  # CPQ creates, answers late

            assert_error(push(client, reference), 502, "CPQ_UNAVAILABLE")
            timed_out_key = idempotency_key(cpq)
            assert order_view(client, reference)["body"]["version"] == version

            cpq.control(latency_ms=0)
            retried = push(client, reference)

            assert retried.status_code == 200, retried.text
            assert idempotency_key(cpq) == timed_out_key  # same order, same version
            assert by_path(cpq)["POST /transactions"] == 2
            assert retried.json()["cpq"]["transactionId"] == "TXN-000001"
            # One transaction exists: the next one CPQ makes is the second.
            other = new_order(client, [{"id": "OP-SYNC", "quantity": 1}])
            assert push(client, other).json()["cpq"]["transactionId"] == "TXN-000002"
        finally:
            restore_tenant(client)
            clear_orders(own_app)


# --- one push in flight per order -----------------------------------------------------------


def test_a_second_push_while_one_is_in_flight_is_409(
    client: TestClient, cpq: SimulatorServer
) -> None:
    reference = new_order(client, LINES)
    cpq.control(latency_ms=600)

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(lambda _: push(client, reference), range(2)))

    assert sorted(r.status_code for r in statuses) == [200, 409]
    refused = next(r for r in statuses if r.status_code == 409)
    assert_error(refused, 409, "SYNC_IN_PROGRESS")
    assert cpq.stats()["calls"] == 1


def test_a_lease_left_by_a_dead_holder_blocks_the_order_until_it_expires(
    client: TestClient, cpq: SimulatorServer, cpq_app: FastAPI
) -> None:
    reference = new_order(client, LINES)
    order_id = order_view(client, reference)["body"]["id"]
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    with cpq_app.state.engine.begin() as conn:
        conn.execute(
            insert(cpq_push_leases).values(
                order_id=order_id, holder="a-process-that-died", expires_at=expires
            )
        )
    before = order_view(client, reference)

    assert_error(push(client, reference), 409, "SYNC_IN_PROGRESS")
    assert cpq.stats()["calls"] == 0
    assert order_view(client, reference) == before

    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    response = push(client, reference)
    assert response.status_code == 200, response.text
    assert cpq.stats()["calls"] == 1
    with cpq_app.state.engine.begin() as conn:  # released after the push
        assert conn.execute(cpq_push_leases.select()).all() == []
