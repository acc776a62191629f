"""One CPQ push in flight per order across processes (SPEC §3.3): two real `ordersync serve`
processes on one database (SQLite file and PostgreSQL), pushing the same order to the CPQ
simulator. The lease row in the database, not any process's memory, decides who pushes; a
holder killed mid-push blocks the order no longer than its lease."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ordersync.adapters.db.migrate import upgrade
from ordersync.bootstrap import unit_of_work_factory
from ordersync.services.data_bundle import load_bundle
from ordersync.settings import Settings
from tests.bundle import KEY_1, catalog_bundle
from tests.databases import postgres_database
from tests.server_process import ServerProcess, served_process
from tests.simulator_servers import SimulatorServer, cpq_simulator

pytestmark = pytest.mark.e2e

CPQ_TIMEOUT_S = 2.0
LEASE_MARGIN_S = 1.0
LEASE_S = CPQ_TIMEOUT_S + LEASE_MARGIN_S  # how long a dead holder can block the order
CPQ_LATENCY_MS = 1500  # slow, but within the CPQ budget
POLL_S = 0.1
# What a loaded machine may add to "no longer than the lease": one poll, one request.
SLACK_S = 0.75
BUYER = {"dj-client": "ACCOUNT", "dj-api-key": KEY_1}
ORDERS = "/v2/shop/commercial-orders"
ONE = "/v1/shop/commercial-orders"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own holding the test catalog."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ordersync.db'}"
        _prepare(url)
        yield url
        return
    with postgres_database() as url:
        _prepare(url)
        yield url


def _prepare(url: str) -> None:
    upgrade(url)
    uow_factory, engine = unit_of_work_factory(Settings(database_url=url))
    try:
        load_bundle(uow_factory(), catalog_bundle())
    finally:
        engine.dispose()


def _point_at(url: str, cpq: SimulatorServer) -> None:
    uow_factory, engine = unit_of_work_factory(Settings(database_url=url))
    try:
        load_bundle(uow_factory(), {"settings": {"cpqUrl": cpq.base_url}})
    finally:
        engine.dispose()


@pytest.fixture
def cpq(database_url: str) -> Iterator[SimulatorServer]:
    with cpq_simulator() as server:
        _point_at(database_url, server)
        yield server


def _env(database_url: str) -> dict[str, str]:
    return {
        "ORDERSYNC_DATABASE_URL": database_url,
        "ORDERSYNC_CPQ_TIMEOUT_S": str(CPQ_TIMEOUT_S),
        "ORDERSYNC_CPQ_LEASE_MARGIN_S": str(LEASE_MARGIN_S),
        "ORDERSYNC_WORKERS": "1",  # the process id is the server itself: SIGKILL hits it
        "ORDERSYNC_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def servers(database_url: str, cpq: SimulatorServer) -> Iterator[tuple[ServerProcess, ...]]:
    with (
        served_process(_env(database_url)) as first,
        served_process(_env(database_url)) as second,
    ):
        yield first, second


def new_order(server: ServerProcess) -> str:
    with httpx.Client(base_url=server.base_url, headers=BUYER, timeout=10) as http:
        created = http.post(ORDERS, json={})
        assert created.status_code == 201, created.text
        reference: str = created.json()["reference"]
        lines = [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-TIER", "quantity": 150}]
        answer = http.put(
            f"{ORDERS}/{reference}/lines", json={"updateOrderCommercialLines": lines}
        )
        assert answer.status_code == 200, answer.text
    return reference


def push(server: ServerProcess, reference: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}{ONE}/{reference}/actions/synchronize", headers=BUYER, timeout=30
    )


def get(server: ServerProcess, reference: str) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}{ONE}/{reference}", headers=BUYER, timeout=10)
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def test_two_processes_pushing_one_order_at_once_call_cpq_once(
    servers: tuple[ServerProcess, ...], cpq: SimulatorServer
) -> None:
    first, second = servers
    reference = new_order(first)
    version = get(first, reference)["version"]
    cpq.control(latency_ms=CPQ_LATENCY_MS)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda server: push(server, reference), servers))

    assert sorted(a.status_code for a in answers) == [200, 409]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert (refused["status"], refused["code"]) == (409, "SYNC_IN_PROGRESS")
    assert cpq.stats()["calls"] == 1
    order = get(second, reference)
    assert order["cpq"]["syncStatus"] == "SYNCED"
    assert order["version"] == version + 1


def test_a_holder_killed_mid_push_blocks_the_order_no_longer_than_its_lease(
    servers: tuple[ServerProcess, ...], cpq: SimulatorServer
) -> None:
    doomed, survivor = servers
    reference = new_order(doomed)
    version = get(survivor, reference)["version"]
    cpq.control(latency_ms=CPQ_LATENCY_MS)

    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        in_flight = pool.submit(push, doomed, reference)
        deadline = started + 10
        while cpq.stats()["calls"] < 1:  # the lease is taken before CPQ is called
            assert time.monotonic() < deadline, "the push never reached CPQ"
            time.sleep(0.01)
        reached_cpq = time.monotonic()
        os.kill(doomed.pid, signal.SIGKILL)  # while CPQ is still answering
        with pytest.raises(httpx.TransportError):
            in_flight.result(timeout=30)
    cpq.control(latency_ms=0)

    answers: list[tuple[float, httpx.Response]] = []
    while not answers or answers[-1][1].status_code == 409:
        assert time.monotonic() - started < LEASE_S + 10, "the order stayed blocked"
        answer = push(survivor, reference)
        answers.append((time.monotonic(), answer))
        if answer.status_code == 409:
            time.sleep(POLL_S)

    refused = [a for _, a in answers[:-1]]
    assert refused, "the lease of the killed holder did not block the order"
    assert {(a.json()["status"], a.json()["code"]) for a in refused} == {(409, "SYNC_IN_PROGRESS")}
    done_at, done = answers[-1]
    assert done.status_code == 200, done.text
    print(
        f"blocked {done_at - reached_cpq:.2f} s after the holder reached CPQ "
        f"({len(refused)} refusals; lease {LEASE_S:g} s)"
    )
    # Held while the lease lived (it was taken after `started`), and no longer.
    assert done_at - started >= LEASE_S - 0.05
    assert done_at - reached_cpq <= LEASE_S + SLACK_S
    # CPQ had made the transaction for the killed push; the retry (same order, same version,
    # same Idempotency-Key) got that one back instead of a second.
    assert cpq.stats()["byPath"]["POST /transactions"] == 2
    assert done.json()["cpq"]["transactionId"] == "TXN-000001"
    assert done.json()["version"] == version + 1
