"""Real-time pricing (SPEC §3.2 RTP, §5.1) end to end: ordersync's own pricing client, over
real HTTP, against the shipped pricing simulator reading this database's catalog.

Proves: one pricing call per synchronise and per update-lines request; metadata forwarded and
never stored; every fault leaves the order identical (blocking PRICING_UNAVAILABLE on
synchronise, 502 on update-lines); availability and available quantity from the pricing
system, the local rules still applied; the circuit breaker; and that no transaction or lock
is held while the pricing system answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api import headers
from tests.integration.outside_systems import (
    CatalogChanges,
    app_client,
    assert_error,
    clear_orders,
    lines_of,
    new_order,
    order_view,
    outside_app,
    put_lines,
    restore_tenant,
    set_tenant,
    sync,
    wait_for,
    warnings_of,
    write_order_directly,
)
from tests.server_process import free_port
from tests.simulator_servers import SimulatorServer, pricing_simulator

BUDGET_S = 1.5  # the pricing client's total budget in this module
BREAKER_RESET_S = 2.0  # open -> half-open: short, yet longer than a few calls on a busy machine
BREAKER_FAILURES = 5  # the default threshold
SLOW_MS = 1000  # a slow but timely pricing system (below the budget)


@pytest.fixture(scope="module")
def rtp_app(app: FastAPI, database_url: str) -> FastAPI:
    """Its own app (so its breakers and budgets are this module's); `app` loads the catalog."""
    return outside_app(
        database_url, pricing_timeout_s=BUDGET_S, pricing_breaker_reset_s=BREAKER_RESET_S
    )


@pytest.fixture(scope="module")
def http(rtp_app: FastAPI) -> Iterator[TestClient]:
    with app_client(rtp_app) as client:
        yield client


@pytest.fixture(scope="module")
def simulator(app: FastAPI, database_url: str) -> Iterator[SimulatorServer]:
    with pricing_simulator(database_url) as server:
        yield server


@pytest.fixture
def pricing(simulator: SimulatorServer) -> Iterator[SimulatorServer]:
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture
def client(http: TestClient, rtp_app: FastAPI, pricing: SimulatorServer) -> Iterator[TestClient]:
    """The module's client with the tenant in STANDARD; back to STANDARD (no URLs) and no
    order left, whatever the test did."""
    try:
        yield http
    finally:
        restore_tenant(http)
        clear_orders(rtp_app)


@pytest.fixture
def catalog(client: TestClient) -> Iterator[CatalogChanges]:
    changes = CatalogChanges(client)
    try:
        yield changes
    finally:
        changes.undo()


def rtp_on(client: TestClient, pricing: SimulatorServer) -> None:
    set_tenant(client, pricingMode="RTP", pricingUrl=pricing.base_url)


def calls(pricing: SimulatorServer) -> int:
    count: int = pricing.stats()["calls"]
    return count


def last_request(pricing: SimulatorServer) -> dict[str, Any]:
    body: dict[str, Any] = pricing.stats()["lastRequest"]["body"]
    return body


def asked(pricing: SimulatorServer) -> dict[str, int]:
    """What the last pricing request asked: quantity by offer price external id."""
    return {
        line["offerPriceExternalId"]: line["quantity"] for line in last_request(pricing)["lines"]
    }


def prices(order: dict[str, Any]) -> dict[str, tuple[int, str, str, str, str]]:
    """quantity, net and gross unit price, tax amount, total net of each line."""
    return {
        op: (
            ln["quantity"],
            ln["netUnitPrice"],
            ln["grossUnitPrice"],
            ln["taxAmount"],
            ln["totalNet"],
        )
        for op, ln in lines_of(order).items()
    }


# --- pricing from the simulator, one call per request ---------------------------------------


def test_synchronise_reprices_every_line_from_the_pricing_system_in_one_call(
    client: TestClient, pricing: SimulatorServer
) -> None:
    reference = new_order(
        client,
        [
            {"id": "OP-TIER", "quantity": 150},
            {"id": "OP-SYNC", "quantity": 10},
            {"id": "OP-B", "quantity": 3},
        ],
    )  # priced from the stored tiers (STANDARD)
    assert prices(order_view(client, reference)["body"])["OP-TIER"][1] == "1.00"
    rtp_on(client, pricing)

    response = sync(client, reference)

    assert response.status_code == 200, response.text
    assert warnings_of(response) == [
        ("OP-B", "PRICE_CHANGED", False),
        ("OP-SYNC", "PRICE_CHANGED", False),
        ("OP-TIER", "PRICE_CHANGED", False),
    ]
    assert calls(pricing) == 1
    order = order_view(client, reference)["body"]
    # The tier for the quantity less ACC-1's GOLD 5 %; the line's tax is the quoted tax of
    # one unit times the quantity.
    assert prices(order) == {
        "OP-TIER": (150, "0.95", "1.425", "28.50", "142.50"),  # tier from 100: 1.00
        "OP-SYNC": (10, "2.85", "3.80", "5.70", "28.50"),
        "OP-B": (3, "4.75", "5.70", "2.85", "14.25"),
    }
    assert (order["totalNet"], order["totalTax"], order["totalGross"]) == (
        "185.25",
        "37.05",
        "222.30",
    )
    request = last_request(pricing)
    line_ids = {str(ln["id"]): op for op, ln in lines_of(order).items()}
    assert {ln["lineId"]: ln["offerPriceExternalId"] for ln in request["lines"]} == line_ids
    assert (request["orderReference"], request["accountExternalId"]) == (reference, "ACC-1")
    assert (request["storeExternalId"], request["currency"]) == ("S1", "EUR")
    assert {(ln["offerPriceExternalId"], ln["supplierExternalId"]) for ln in request["lines"]} == {
        ("OP-TIER", "SUP-A"),
        ("OP-SYNC", "SUP-A"),
        ("OP-B", "SUP-B"),
    }

    # Nothing changed since: 204, and again exactly one call.
    assert sync(client, reference).status_code == 204
    assert calls(pricing) == 2


def test_update_lines_prices_every_line_in_play_with_one_call_and_never_stores_metadata(
    client: TestClient, pricing: SimulatorServer
) -> None:
    rtp_on(client, pricing)
    reference = new_order(client, [])
    many = [{"id": f"OP-{i:04d}", "quantity": i} for i in range(1, 41)]

    response = put_lines(
        client,
        reference,
        [
            {"id": "OP-SYNC", "quantity": 10, "metadata": {"promo": "LINE-MARKER-7"}},
            {"id": "OP-TIER", "quantity": 2},
            *many,
        ],
        metadata={"channel": "REQUEST-MARKER-3", "nested": {"depth": [1, 2]}},
    )

    assert response.status_code == 200, response.text
    assert response.json() == []
    assert calls(pricing) == 1  # 42 lines, one call
    request = last_request(pricing)
    assert request["metadata"] == {"channel": "REQUEST-MARKER-3", "nested": {"depth": [1, 2]}}
    by_offer = {ln["offerPriceExternalId"]: ln for ln in request["lines"]}
    assert len(by_offer) == 42
    assert by_offer["OP-SYNC"]["metadata"] == {"promo": "LINE-MARKER-7"}
    assert by_offer["OP-TIER"]["metadata"] is None
    assert by_offer["OP-SYNC"]["lineId"] == "new:OP-SYNC"  # not on the order yet
    order = order_view(client, reference)["body"]
    assert prices(order)["OP-SYNC"] == (10, "2.85", "3.80", "5.70", "28.50")
    assert prices(order)["OP-TIER"] == (2, "1.14", "1.425", "0.46", "2.28")  # 0.228 x 2
    stored = json.dumps(order)
    assert "MARKER" not in stored and "promo" not in stored and "channel" not in stored

    # Changing two lines and adding one: one more call, about those three only.
    response = put_lines(
        client,
        reference,
        [
            {"id": "OP-SYNC", "quantity": 5, "updateAction": "ADD_QUANTITY"},
            {"id": "OP-TIER", "quantity": 120},
            {"id": "OP-B", "quantity": 1},
        ],
    )
    assert response.status_code == 200, response.text
    assert calls(pricing) == 2
    assert asked(pricing) == {"OP-SYNC": 15, "OP-TIER": 120, "OP-B": 1}
    lines = lines_of(order_view(client, reference)["body"])
    assert {ln["lineId"] for ln in last_request(pricing)["lines"]} == {
        str(lines["OP-SYNC"]["id"]),
        str(lines["OP-TIER"]["id"]),
        "new:OP-B",
    }
    assert prices(order_view(client, reference)["body"])["OP-TIER"][1] == "0.95"
    assert "MARKER" not in json.dumps(order_view(client, reference)["body"])


# --- faults: the order stays identical ------------------------------------------------------

FAULTS: dict[str, dict[str, Any]] = {
    "timeout": {"latency_ms": int(BUDGET_S * 1000) + 1000},
    "hang": {"hang": True},
    "http-500": {"status": 500},
    "malformed-json": {"malformed": True},
    "missing-line": {"missing_line": True},
    "unknown-line-id": {"unknown_line": True},
    "negative-price": {"negative_price": True},
    "connection-refused": {},  # a pricing URL on a port nobody listens on
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_pricing_failure_changes_nothing_and_is_reported(
    client: TestClient, pricing: SimulatorServer, fault: str
) -> None:
    rtp_on(client, pricing)
    reference = new_order(
        client, [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-TIER", "quantity": 150}]
    )
    pricing.control(discounts={"GOLD": 10})  # a good answer now would change both lines
    if fault == "connection-refused":
        set_tenant(client, pricingUrl=f"http://127.0.0.1:{free_port()}")
    else:
        pricing.control(**FAULTS[fault])
    before = order_view(client, reference)
    calls_before = calls(pricing)

    synchronised = sync(client, reference)

    assert synchronised.status_code == 200, synchronised.text
    assert warnings_of(synchronised) == [
        ("OP-SYNC", "PRICING_UNAVAILABLE", True),
        ("OP-TIER", "PRICING_UNAVAILABLE", True),
    ]
    assert order_view(client, reference) == before

    updated = put_lines(
        client, reference, [{"id": "OP-SYNC", "quantity": 20}, {"id": "OP-B", "quantity": 1}]
    )

    assert_error(updated, 502, "PRICING_UNAVAILABLE")
    assert order_view(client, reference) == before
    if fault == "connection-refused":
        assert calls(pricing) == calls_before
    else:
        assert calls(pricing) >= calls_before + 2  # the simulator was reached each time

    # The same order with the pricing system back: both lines change, one call.
    pricing.reset()
    pricing.control(discounts={"GOLD": 10})
    set_tenant(client, pricingUrl=pricing.base_url)
    recovered = sync(client, reference)
    assert recovered.status_code == 200, recovered.text
    assert warnings_of(recovered) == [
        ("OP-SYNC", "PRICE_CHANGED", False),
        ("OP-TIER", "PRICE_CHANGED", False),
    ]
    assert calls(pricing) == 1
    assert order_view(client, reference)["body"]["version"] == before["body"]["version"] + 1


def test_a_timeout_answers_within_the_budget(client: TestClient, pricing: SimulatorServer) -> None:
    rtp_on(client, pricing)
    reference = new_order(client, [{"id": "OP-SYNC", "quantity": 10}])
    pricing.control(hang=True)

    started = time.monotonic()
    response = sync(client, reference)
    elapsed = time.monotonic() - started

    assert warnings_of(response) == [("OP-SYNC", "PRICING_UNAVAILABLE", True)]
    assert BUDGET_S - 0.1 <= elapsed < BUDGET_S + 1.0
    pricing.reset()
    assert sync(client, reference).status_code == 204  # closes the breaker's count again


# --- availability from the pricing system ---------------------------------------------------


def test_a_line_the_pricing_system_says_is_unavailable_is_skipped_by_update_lines(
    client: TestClient, pricing: SimulatorServer
) -> None:
    rtp_on(client, pricing)
    reference = new_order(client, [])

    response = put_lines(
        client, reference, [{"id": "OP-NOSTOCK", "quantity": 1}, {"id": "OP-SYNC", "quantity": 2}]
    )

    assert response.status_code == 200, response.text
    assert warnings_of(response) == [("OP-NOSTOCK", "OUT_OF_STOCK", False)]
    # The local stock (0) was not checked: the pricing system was asked and said no.
    assert asked(pricing) == {"OP-NOSTOCK": 1, "OP-SYNC": 2}
    assert calls(pricing) == 1
    assert set(lines_of(order_view(client, reference)["body"])) == {"OP-SYNC"}


def test_a_line_the_pricing_system_says_is_unavailable_blocks_synchronise(
    client: TestClient, pricing: SimulatorServer, catalog: CatalogChanges
) -> None:
    rtp_on(client, pricing)
    reference = new_order(
        client, [{"id": "OP-SYNC", "quantity": 2}, {"id": "OP-TIER", "quantity": 1}]
    )
    catalog.offer("OFR-SYNC", stock=0)  # the simulator answers availability from the stock
    pricing.control(discounts={"GOLD": 10})  # OP-TIER alone would be repriced
    before = order_view(client, reference)

    response = sync(client, reference)

    assert response.status_code == 200, response.text
    assert warnings_of(response) == [("OP-SYNC", "OUT_OF_STOCK", True)]
    assert order_view(client, reference) == before
    assert calls(pricing) == 2  # the order's creation, then this synchronise


@pytest.mark.parametrize(
    ("requested", "kept", "codes"),
    [
        (15, 20, ["QUANTITY_ADJUSTED_STEP"]),
        (60, 50, ["QUANTITY_ADJUSTED_STOCK"]),
        (55, 50, ["QUANTITY_ADJUSTED_STEP", "QUANTITY_ADJUSTED_STOCK"]),
        (150, 50, ["QUANTITY_ADJUSTED_MAX", "QUANTITY_ADJUSTED_STOCK"]),
        (5, 10, ["QUANTITY_ADJUSTED_MIN"]),
    ],
)
def test_update_lines_bounds_by_the_quoted_available_quantity_like_stock(
    client: TestClient, pricing: SimulatorServer, requested: int, kept: int, codes: list[str]
) -> None:
    # OP-STEP: min 10, max 100, step 10; its offer's stock is 55, and the simulator quotes
    # availableQuantity 55. The warnings are those STANDARD mode gives for local stock.
    rtp_on(client, pricing)
    reference = new_order(client, [])

    response = put_lines(client, reference, [{"id": "OP-STEP", "quantity": requested}])

    assert response.status_code == 200, response.text
    assert [(w["id"], w["code"], w["blocked"]) for w in response.json()] == [
        ("OP-STEP", code, False) for code in codes
    ]
    line = lines_of(order_view(client, reference)["body"])["OP-STEP"]
    assert line["quantity"] == kept
    assert calls(pricing) == 1


def test_synchronise_lowers_a_line_to_the_quoted_available_quantity(
    client: TestClient, pricing: SimulatorServer, catalog: CatalogChanges
) -> None:
    rtp_on(client, pricing)
    catalog.offer("OFR-STEP", stock=None)
    reference = new_order(client, [{"id": "OP-STEP", "quantity": 100}])
    catalog.offer("OFR-STEP", stock=55)
    version = order_view(client, reference)["body"]["version"]

    response = sync(client, reference)

    assert response.status_code == 200, response.text
    assert warnings_of(response) == [("OP-STEP", "QUANTITY_ADJUSTED_STOCK", False)]
    assert asked(pricing) == {"OP-STEP": 100}  # asked at the locally bounded quantity
    assert calls(pricing) == 2
    order = order_view(client, reference)["body"]
    assert prices(order)["OP-STEP"] == (50, "1.90", "2.375", "19.00", "95.00")
    assert order["version"] == version + 1


def test_synchronise_reports_a_lowered_maximum_and_the_quoted_available_quantity(
    client: TestClient, pricing: SimulatorServer, catalog: CatalogChanges
) -> None:
    rtp_on(client, pricing)
    catalog.offer("OFR-STEP", stock=None)
    reference = new_order(client, [{"id": "OP-STEP", "quantity": 100}])
    catalog.offer("OFR-STEP", stock=55, price={"maxOrderQuantity": 80})

    response = sync(client, reference)

    assert response.status_code == 200, response.text
    assert [(w["id"], w["code"], w["blocked"]) for w in response.json()] == [
        ("OP-STEP", "QUANTITY_ADJUSTED_MAX", False),
        ("OP-STEP", "QUANTITY_ADJUSTED_STOCK", False),
    ]
    assert asked(pricing) == {"OP-STEP": 80}
    assert lines_of(order_view(client, reference)["body"])["OP-STEP"]["quantity"] == 50


# --- local rules still apply ----------------------------------------------------------------


def test_local_rules_still_decide_which_lines_update_lines_asks_about(
    client: TestClient, pricing: SimulatorServer
) -> None:
    rtp_on(client, pricing)
    reference = new_order(client, [])

    response = put_lines(
        client,
        reference,
        [
            {"id": "OP-INACTIVE-SUP", "quantity": 1},
            {"id": "OP-HIDDEN", "quantity": 1},
            {"id": "OP-RESTRICTED", "quantity": 1},
            {"id": "OP-EXPIRED", "quantity": 1},
            {"id": "OP-STEP", "quantity": 15},
            {"id": "OP-SYNC", "quantity": 2},
        ],
        extra_headers={"dj-store-view": "SV-LIMITED"},
    )

    assert response.status_code == 200, response.text
    assert warnings_of(response) == [
        ("OP-EXPIRED", "LINE_NOT_ELIGIBLE", False),
        ("OP-HIDDEN", "VARIANT_NOT_VISIBLE", False),
        ("OP-INACTIVE-SUP", "SUPPLIER_INACTIVE", False),
        ("OP-RESTRICTED", "LINE_NOT_ELIGIBLE", False),
        ("OP-STEP", "QUANTITY_ADJUSTED_STEP", False),
    ]
    assert asked(pricing) == {"OP-STEP": 20, "OP-SYNC": 2}  # step 10
    assert calls(pricing) == 1
    assert {
        op: ln["quantity"] for op, ln in lines_of(order_view(client, reference)["body"]).items()
    } == {
        "OP-STEP": 20,
        "OP-SYNC": 2,
    }


def test_a_line_of_an_inactive_supplier_blocks_synchronise_without_being_priced(
    client: TestClient, pricing: SimulatorServer, catalog: CatalogChanges
) -> None:
    rtp_on(client, pricing)
    reference = new_order(
        client, [{"id": "OP-SYNC-B", "quantity": 3}, {"id": "OP-SYNC", "quantity": 4}]
    )
    catalog.supplier("SUP-B", "INACTIVE")
    pricing.control(discounts={"GOLD": 10})
    before = order_view(client, reference)

    response = sync(client, reference)

    assert response.status_code == 200, response.text
    assert warnings_of(response) == [("OP-SYNC-B", "SUPPLIER_INACTIVE", True)]
    assert asked(pricing) == {"OP-SYNC": 4}
    assert order_view(client, reference) == before


def test_a_line_hidden_from_the_store_view_blocks_synchronise(
    client: TestClient, pricing: SimulatorServer
) -> None:
    rtp_on(client, pricing)
    reference = new_order(
        client, [{"id": "OP-HIDDEN", "quantity": 1}, {"id": "OP-SYNC", "quantity": 1}]
    )
    before = order_view(client, reference)

    response = client.put(
        f"/v1/shop/commercial-orders/{reference}/sync",
        headers={
            "dj-client": "ACCOUNT",
            "dj-api-key": "key-user-1",
            "dj-store-view": "SV-LIMITED",
        },
    )

    assert response.status_code == 200, response.text
    assert warnings_of(response) == [("OP-HIDDEN", "VARIANT_NOT_VISIBLE", True)]
    assert order_view(client, reference) == before


# --- the circuit breaker ----------------------------------------------------------------------


def test_the_breaker_opens_after_five_failures_and_closes_after_a_good_trial(
    client: TestClient, pricing: SimulatorServer
) -> None:
    rtp_on(client, pricing)
    reference = new_order(client, [{"id": "OP-SYNC", "quantity": 1}])  # a success: closed
    pricing.control(status=503)

    for _ in range(BREAKER_FAILURES):
        failed = sync(client, reference)
        assert warnings_of(failed) == [("OP-SYNC", "PRICING_UNAVAILABLE", True)]
    reached = calls(pricing)

    opened = time.monotonic()
    for _ in range(2):
        fast = sync(client, reference)
        assert warnings_of(fast) == [("OP-SYNC", "PRICING_UNAVAILABLE", True)]
        assert "circuit open" in fast.json()[0]["detail"]
    assert_error(
        put_lines(client, reference, [{"id": "OP-SYNC", "quantity": 2}]),
        502,
        "PRICING_UNAVAILABLE",
    )
    assert calls(pricing) == reached  # the simulator saw none of them
    assert time.monotonic() - opened < BREAKER_RESET_S  # all of them while it was open

    pricing.control(status=None)
    time.sleep(max(0.0, opened + BREAKER_RESET_S + 0.1 - time.monotonic()))
    assert sync(client, reference).status_code == 204  # the half-open trial succeeds
    assert sync(client, reference).status_code == 204  # closed: calls go through again
    assert calls(pricing) == reached + 2


def test_a_priced_synchronise_applies_to_the_order_as_read_and_records_its_history(
    client: TestClient, pricing: SimulatorServer
) -> None:
    # After the pricing call the order is locked and, its version unmoved, changed as it was
    # read before the call (its lines are not read again): the write and its history entry
    # must be those of a fresh read.
    reference = new_order(
        client, [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-B", "quantity": 3}]
    )
    rtp_on(client, pricing)
    before = order_view(client, reference)["body"]

    response = sync(client, reference)

    assert response.status_code == 200, response.text
    after = order_view(client, reference)["body"]
    assert after["version"] == before["version"] + 1
    assert prices(after)["OP-SYNC"] == (10, "2.85", "3.80", "5.70", "28.50")
    history = client.get(f"/v1/shop/commercial-orders/{reference}/history", headers=headers())
    assert history.status_code == 200, history.text
    entry = history.json()["content"][0]
    assert (entry["source"], entry["versionBefore"], entry["versionAfter"]) == (
        "SYNC",
        before["version"],
        after["version"],
    )
    changed = {(c["entity"], c["field"]) for c in entry["changes"]}
    assert ("LINE", "net_unit_price") in changed
    assert ("ORDER", "total_gross") in changed
    assert sync(client, reference).status_code == 204  # nothing left to change


# --- no transaction or lock while the pricing system answers ------------------------------


def test_no_lock_is_held_while_pricing_so_a_concurrent_write_goes_through_and_is_kept(
    client: TestClient, pricing: SimulatorServer, database_url: str
) -> None:
    rtp_on(client, pricing)
    reference = new_order(client, [{"id": "OP-SYNC", "quantity": 10}])
    version = order_view(client, reference)["body"]["version"]
    pricing.control(latency_ms=SLOW_MS, discounts={"GOLD": 10})

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(sync, client, reference)
        wait_for(lambda: calls(pricing) == 2, what="the pricing call")
        took = write_order_directly(database_url, reference, {"CF-PO": "WRITTEN-MEANWHILE"})
        assert not pending.done()  # the synchronise is still waiting on the pricing system
        response = pending.result(timeout=30)

    assert took < SLOW_MS / 1000 / 2  # not blocked by the synchronise
    # The version moved while it priced: it priced once more, then applied.
    assert response.status_code == 200, response.text
    assert warnings_of(response) == [("OP-SYNC", "PRICE_CHANGED", False)]
    assert calls(pricing) == 3
    order = order_view(client, reference)["body"]
    assert order["customFields"] == {"CF-PO": "WRITTEN-MEANWHILE"}
    assert prices(order)["OP-SYNC"] == (10, "2.70", "3.60", "5.40", "27.00")  # 3.00 less 10 %
    assert order["version"] == version + 2


def test_a_synchronise_that_keeps_losing_the_race_answers_409_and_changes_nothing(
    client: TestClient, pricing: SimulatorServer, database_url: str
) -> None:
    rtp_on(client, pricing)
    reference = new_order(client, [{"id": "OP-SYNC", "quantity": 10}])
    version = order_view(client, reference)["body"]["version"]
    pricing.control(latency_ms=SLOW_MS, discounts={"GOLD": 10})

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(sync, client, reference)
        for round_, value in ((2, "FIRST"), (3, "SECOND")):
            wait_for(lambda r=round_: calls(pricing) == r, what=f"pricing call {round_}")
            took = write_order_directly(database_url, reference, {"CF-PO": value})
            assert took < SLOW_MS / 1000 / 2
            assert not pending.done()
        response = pending.result(timeout=30)

    assert_error(response, 409, "CONCURRENT_UPDATE")
    assert calls(pricing) == 3  # priced twice, never a third time
    order = order_view(client, reference)["body"]
    assert order["customFields"] == {"CF-PO": "SECOND"}
    assert prices(order)["OP-SYNC"] == (10, "2.85", "3.80", "5.70", "28.50")  # unchanged
    assert order["version"] == version + 2  # the two direct writes only
