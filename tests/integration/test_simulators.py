"""The shipped simulators over real HTTP: deterministic answers from the loaded catalog, every
run-time fault, the statistics, and CPQ's transactions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.server_process import ROOT, free_port
from tests.simulator_servers import SimulatorServer, cpq_simulator, pricing_simulator


@pytest.fixture
def catalog_url(app: FastAPI, database_url: str) -> str:
    """The database holding the test catalog (the `app` fixture loads it)."""
    return database_url


@pytest.fixture
def pricing(catalog_url: str) -> Iterator[SimulatorServer]:
    with pricing_simulator(catalog_url) as server:
        yield server


@pytest.fixture
def cpq() -> Iterator[SimulatorServer]:
    with cpq_simulator() as server:
        yield server


def price_line(line_id: str, offer_price: str, quantity: int, **extra: Any) -> dict[str, Any]:
    return {
        "lineId": line_id,
        "variantExternalId": "V-" + offer_price.removeprefix("OP-"),
        "offerPriceExternalId": offer_price,
        "supplierExternalId": "SUP-A",
        "quantity": quantity,
        "metadata": None,
        **extra,
    }


def price_request(*lines: dict[str, Any], account: str = "ACC-1") -> dict[str, Any]:
    return {
        "orderReference": "260-000-0000001",
        "accountExternalId": account,
        "storeExternalId": "S1",
        "currency": "EUR",
        "metadata": None,
        "lines": list(lines),
    }


def ask_prices(
    server: SimulatorServer, body: dict[str, Any], timeout: float = 5
) -> httpx.Response:
    return httpx.post(server.base_url + "/prices", json=body, timeout=timeout)


def two_lines() -> dict[str, Any]:
    return price_request(price_line("l1", "OP-TIER", 1), price_line("l2", "OP-STEP", 10))


def transaction(*lines: tuple[str, int], reference: str = "260-000-0000001") -> dict[str, Any]:
    return {
        "reference": reference,
        "accountExternalId": "ACC-1",
        "storeExternalId": "S1",
        "currency": "EUR",
        "totalNet": "10.00",
        "totalTax": "2.00",
        "totalGross": "12.00",
        "customFields": {"CF-PO": "PO-1"},
        "lines": [
            {
                "lineId": line_id,
                "variantExternalId": "V-SYNC",
                "offerPriceExternalId": "OP-SYNC",
                "quantity": quantity,
                "netUnitPrice": "3.0000",
                "grossUnitPrice": "4.0000",
                "taxAmount": "0.60",
                "totalNet": str(3 * quantity),
                "customFields": {},
            }
            for line_id, quantity in lines
        ],
    }


def create(
    server: SimulatorServer, body: dict[str, Any], key: str | None = None, timeout: float = 5
) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return httpx.post(
        server.base_url + "/transactions", json=body, headers=headers, timeout=timeout
    )


def update(server: SimulatorServer, transaction_id: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.put(
        f"{server.base_url}/transactions/{transaction_id}",
        json=body,
        headers={"Idempotency-Key": "update-key"},
        timeout=5,
    )


# --- pricing: answers from the catalog ---------------------------------------------------


def test_prices_are_the_tier_for_the_quantity_less_the_gold_discount(
    pricing: SimulatorServer,
) -> None:
    body = price_request(
        price_line("small", "OP-TIER", 1),
        price_line("big", "OP-TIER", 150),
        price_line("step", "OP-STEP", 10),
    )
    answer = ask_prices(pricing, body)

    assert answer.status_code == 200
    assert answer.json()["lines"] == [
        {
            "lineId": "small",
            "available": True,
            "availableQuantity": None,
            "netUnitPrice": "1.1400",  # 1.20 less 5 %
            "grossUnitPrice": "1.4250",
            "taxAmount": "0.2280",  # 20 % of ONE unit's net price
        },
        {
            "lineId": "big",
            "available": True,
            "availableQuantity": None,
            "netUnitPrice": "0.9500",  # the tier from 100, less 5 %
            "grossUnitPrice": "1.4250",
            "taxAmount": "0.1900",
        },
        {
            "lineId": "step",
            "available": True,
            "availableQuantity": 55,
            "netUnitPrice": "1.9000",
            "grossUnitPrice": "2.3750",
            "taxAmount": "0.3800",
        },
    ]
    assert ask_prices(pricing, body).json() == answer.json()


def test_an_account_in_no_discounted_group_pays_the_tier_price(pricing: SimulatorServer) -> None:
    for account in ("ACC-2", "ACC-UNKNOWN"):
        body = price_request(price_line("big", "OP-TIER", 100), account=account)
        (line,) = ask_prices(pricing, body).json()["lines"]
        assert (line["netUnitPrice"], line["grossUnitPrice"], line["taxAmount"]) == (
            "1.0000",
            "1.5000",
            "0.2000",
        )


def test_discounts_are_set_at_run_time_and_reset_to_gold_5_percent(
    pricing: SimulatorServer,
) -> None:
    body = price_request(price_line("l1", "OP-TIER", 1))

    shown = pricing.control(discounts={"GOLD": "12.5", "SILVER": 3})

    assert shown["discounts"] == {"GOLD": "12.5", "SILVER": "3"}
    assert ask_prices(pricing, body).json()["lines"][0]["netUnitPrice"] == "1.0500"
    pricing.reset()
    assert pricing.faults()["discounts"] == {"GOLD": "5"}
    assert ask_prices(pricing, body).json()["lines"][0]["netUnitPrice"] == "1.1400"


def test_availability_follows_stock_and_an_unknown_offer_price_is_unavailable(
    pricing: SimulatorServer,
) -> None:
    body = price_request(
        price_line("none-left", "OP-NOSTOCK", 1),
        price_line("limited", "OP-STEP", 500),
        price_line("unlimited", "OP-TIER", 5000),
        price_line("gone", "OP-DOES-NOT-EXIST", 1),
    )
    lines = ask_prices(pricing, body).json()["lines"]

    availability = [(ln["lineId"], ln["available"], ln["availableQuantity"]) for ln in lines]
    assert availability == [
        ("none-left", False, 0),
        ("limited", True, 55),
        ("unlimited", True, None),
        ("gone", False, 0),
    ]
    assert {k: lines[3][k] for k in ("netUnitPrice", "grossUnitPrice", "taxAmount")} == {
        "netUnitPrice": "0",
        "grossUnitPrice": "0",
        "taxAmount": "0",
    }


def test_an_invalid_price_request_is_refused_with_422_and_still_counted(
    pricing: SimulatorServer,
) -> None:
    answer = ask_prices(pricing, {"lines": [{"lineId": "l1"}]})

    assert answer.status_code == 422
    assert answer.json()["code"] == "INVALID_REQUEST"
    assert pricing.stats()["calls"] == 1


# --- faults ------------------------------------------------------------------------------


def test_latency_delays_every_answer(pricing: SimulatorServer) -> None:
    pricing.control(latency_ms=300)

    started = time.monotonic()
    answer = ask_prices(pricing, two_lines())

    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_latency_does_not_serialise_concurrent_callers(pricing: SimulatorServer) -> None:
    pricing.control(latency_ms=300)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: ask_prices(pricing, two_lines()), range(20)))

    assert [a.status_code for a in answers] == [200] * 20
    assert time.monotonic() - started < 3.0  # 20 x 0.3 s one after the other would be 6 s
    assert pricing.stats()["calls"] == 20


def test_status_fails_every_call_with_a_json_error_body(pricing: SimulatorServer) -> None:
    pricing.control(status=500)

    answers = [ask_prices(pricing, two_lines()) for _ in range(3)]

    assert [a.status_code for a in answers] == [500, 500, 500]
    assert answers[0].json()["status"] == 500
    assert pricing.stats()["calls"] == 3


def test_fail_every_fails_only_every_nth_call_with_503_by_default(
    pricing: SimulatorServer,
) -> None:
    pricing.control(fail_every=3)
    assert [ask_prices(pricing, two_lines()).status_code for _ in range(6)] == [
        200,
        200,
        503,
        200,
        200,
        503,
    ]

    pricing.control(status=502, fail_every=2)  # counting starts again
    assert [ask_prices(pricing, two_lines()).status_code for _ in range(4)] == [
        200,
        502,
        200,
        502,
    ]


def test_malformed_answers_200_with_a_body_that_is_not_json(pricing: SimulatorServer) -> None:
    pricing.control(malformed=True)

    answer = ask_prices(pricing, two_lines())

    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


def test_missing_line_drops_the_last_line(pricing: SimulatorServer) -> None:
    pricing.control(missing_line=True)

    lines = ask_prices(pricing, two_lines()).json()["lines"]

    assert [line["lineId"] for line in lines] == ["l1"]


def test_unknown_line_adds_a_line_nobody_asked_for(pricing: SimulatorServer) -> None:
    pricing.control(unknownLine=True)

    lines = ask_prices(pricing, two_lines()).json()["lines"]

    assert [line["lineId"] for line in lines] == ["l1", "l2", "unknown-line"]


def test_negative_price_spoils_the_first_line(pricing: SimulatorServer) -> None:
    pricing.control(negative_price=True)

    lines = ask_prices(pricing, two_lines()).json()["lines"]

    assert [line["netUnitPrice"] for line in lines] == ["-1.00", "1.9000"]


def test_hang_outlasts_a_client_timeout_and_is_released_when_switched_off(
    pricing: SimulatorServer,
) -> None:
    pricing.control(hang=True)

    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        ask_prices(pricing, two_lines(), timeout=0.3)
    assert time.monotonic() - started < 2

    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(ask_prices, pricing, two_lines(), 10)
        time.sleep(0.3)
        assert not held.done()
        pricing.control(hang=False)
        assert held.result().status_code == 200
    assert pricing.stats()["calls"] == 2


def test_control_and_stats_never_fail_because_of_a_fault(pricing: SimulatorServer) -> None:
    pricing.control(status=500, malformed=True, latency_ms=2000, hang=True)

    started = time.monotonic()
    assert pricing.faults()["status"] == 500
    assert pricing.stats()["calls"] == 0
    assert time.monotonic() - started < 1


def test_a_misspelt_fault_is_refused(pricing: SimulatorServer) -> None:
    answer = httpx.post(pricing.base_url + "/_control", json={"latency": 10})

    assert answer.status_code == 422
    assert pricing.faults()["latencyMs"] == 0


def test_reset_switches_every_fault_off_and_zeroes_the_counts(pricing: SimulatorServer) -> None:
    pricing.control(status=500, missing_line=True, latency_ms=10)
    ask_prices(pricing, two_lines())

    pricing.reset()

    assert pricing.faults() == {
        "latencyMs": 0,
        "status": None,
        "failEvery": None,
        "malformed": False,
        "missingLine": False,
        "unknownLine": False,
        "negativePrice": False,
        "hang": False,
        "discounts": {"GOLD": "5"},
    }
    assert pricing.stats() == {"calls": 0, "byPath": {"POST /prices": 0}, "lastRequest": None}
    assert len(ask_prices(pricing, two_lines()).json()["lines"]) == 2


def test_stats_count_every_call_and_keep_the_last_request_as_received(
    pricing: SimulatorServer,
) -> None:
    pricing.control(fail_every=2)
    body = price_request(price_line("l1", "OP-TIER", 1, metadata={"promo": "X"}))
    body["metadata"] = {"channel": "web"}

    for _ in range(3):
        ask_prices(pricing, body)

    stats = pricing.stats()
    assert stats["calls"] == 3
    assert stats["byPath"] == {"POST /prices": 3}
    assert stats["lastRequest"]["body"] == body
    assert stats["lastRequest"]["route"] == "POST /prices"


# --- CPQ ---------------------------------------------------------------------------------


def test_a_create_numbers_the_lines_and_charges_handling(cpq: SimulatorServer) -> None:
    answer = create(cpq, transaction(("a", 3), ("b", 1)), key="k1")

    assert answer.status_code == 200
    assert answer.json() == {
        "transactionId": "TXN-000001",
        "lines": [
            {
                "lineId": line_id,
                "txnLineNumber": number,
                "unitPrice": "3.0000",
                "charges": [
                    {
                        "name": "Handling",
                        "unitPrice": "0.50",
                        "amount": amount,
                        "priceType": "oneTime",
                    }
                ],
                "syncInfo": {"status": "completed", "errorMessage": None},
            }
            for line_id, number, amount in (("a", "1", "1.50"), ("b", "2", "0.50"))
        ],
    }
    assert create(cpq, transaction(("c", 1)), key="k2").json()["transactionId"] == "TXN-000002"


def test_line_numbers_stay_with_their_lines_across_updates(cpq: SimulatorServer) -> None:
    created = create(cpq, transaction(("a", 1), ("b", 1)), key="k1").json()
    txn = created["transactionId"]

    first = update(cpq, txn, transaction(("b", 2), ("c", 1), ("a", 1)))
    second = update(cpq, txn, transaction(("d", 1), ("a", 1)))  # b and c left the order

    assert first.status_code == 200
    assert first.json()["transactionId"] == txn
    numbers = {ln["lineId"]: ln["txnLineNumber"] for ln in first.json()["lines"]}
    assert numbers == {"a": "1", "b": "2", "c": "3"}
    numbers = {ln["lineId"]: ln["txnLineNumber"] for ln in second.json()["lines"]}
    assert numbers == {"d": "4", "a": "1"}


def test_a_create_retried_with_the_same_key_creates_nothing(cpq: SimulatorServer) -> None:
    first = create(cpq, transaction(("a", 1)), key="260-000-0000001:v3")
    again = create(cpq, transaction(("a", 1)), key="260-000-0000001:v3")
    other = create(cpq, transaction(("a", 1)), key="260-000-0000001:v4")

    assert again.json() == first.json()
    assert other.json()["transactionId"] == "TXN-000002"
    stats = cpq.stats()
    assert stats["byPath"] == {"POST /transactions": 3, "PUT /transactions/{transactionId}": 0}
    assert stats["lastRequest"]["headers"] == {"Idempotency-Key": "260-000-0000001:v4"}


def test_creates_without_a_key_are_separate_transactions(cpq: SimulatorServer) -> None:
    ids = [create(cpq, transaction(("a", 1))).json()["transactionId"] for _ in range(2)]

    assert ids == ["TXN-000001", "TXN-000002"]


def test_a_create_the_client_gave_up_on_has_happened_and_its_retry_gets_it(
    cpq: SimulatorServer,
) -> None:
    cpq.control(latency_ms=600)
    with pytest.raises(httpx.ReadTimeout):
        create(cpq, transaction(("a", 1)), key="k1", timeout=0.2)
    cpq.reset()

    retried = create(cpq, transaction(("a", 1)), key="k1")

    assert retried.json()["transactionId"] == "TXN-000001"
    assert create(cpq, transaction(("a", 1)), key="k2").json()["transactionId"] == "TXN-000002"


def test_a_create_refused_by_a_status_fault_creates_nothing(cpq: SimulatorServer) -> None:
    cpq.control(status=503)
    assert create(cpq, transaction(("a", 1)), key="k1").status_code == 503
    cpq.reset()

    assert create(cpq, transaction(("a", 1)), key="k1").json()["transactionId"] == "TXN-000001"


def test_updating_an_unknown_transaction_is_404(cpq: SimulatorServer) -> None:
    answer = update(cpq, "TXN-999999", transaction(("a", 1)))

    assert answer.status_code == 404
    assert answer.json()["code"] == "TRANSACTION_NOT_FOUND"
    assert cpq.stats()["byPath"]["PUT /transactions/{transactionId}"] == 1


def test_cpq_line_faults_spoil_the_answer(cpq: SimulatorServer) -> None:
    cpq.control(negative_price=True, missing_line=True, unknown_line=True)

    lines = create(cpq, transaction(("a", 1), ("b", 1)), key="k1").json()["lines"]

    assert [(ln["lineId"], ln["unitPrice"]) for ln in lines] == [
        ("a", "-1.00"),
        ("unknown-line", "1.00"),
    ]
    cpq.reset()
    # The stored answer of the create is the true one.
    lines = create(cpq, transaction(("a", 1), ("b", 1)), key="k1").json()["lines"]
    assert [(ln["lineId"], ln["unitPrice"]) for ln in lines] == [("a", "3.0000"), ("b", "3.0000")]


def test_cpq_status_fault_and_malformed_answers(cpq: SimulatorServer) -> None:
    cpq.control(fail_every=2, status=500)
    assert [create(cpq, transaction(("a", 1))).status_code for _ in range(4)] == [
        200,
        500,
        200,
        500,
    ]
    cpq.control(malformed=True, fail_every=None, status=None)
    answer = update(cpq, "TXN-000001", transaction(("a", 1)))
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


# --- the command line ----------------------------------------------------------------------


@pytest.mark.e2e
def test_ordersync_simulate_serves_both_simulators_on_the_configured_database(
    catalog_url: str,
) -> None:
    env = {**os.environ, "ORDERSYNC_DATABASE_URL": catalog_url, "ORDERSYNC_LOG_LEVEL": "WARNING"}
    servers = {
        name: SimulatorServer(f"http://127.0.0.1:{free_port()}") for name in ("pricing", "cpq")
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "ordersync.cli", "simulate", name, "--port", str(server.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, server in servers.items()
    ]
    try:
        deadline = time.monotonic() + 30
        for server in servers.values():
            while True:
                try:
                    server.faults()
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, f"{server.base_url} did not start"
                    time.sleep(0.1)

        lines = ask_prices(servers["pricing"], two_lines()).json()["lines"]
        created = create(servers["cpq"], transaction(("a", 1)), key="k1").json()

        assert lines[0]["netUnitPrice"] == "1.1400"
        assert created["transactionId"] == "TXN-000001"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            # uvicorn stops gracefully, then dies of the signal it caught, as a server should.
            assert process.wait(timeout=10) in (0, -signal.SIGTERM)
