"""Idempotency keys across processes (SPEC §7): two real `ordersync serve` processes on one
database (SQLite file and PostgreSQL) receive the same update-lines request with the same key
at the same moment. The key's row in the database, not any process's memory, decides: one
request runs, the other gets 409 IDEMPOTENCY_KEY_IN_USE or the stored answer, and the order's
version moves once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
from tests.simulator_servers import SimulatorServer, pricing_simulator

pytestmark = pytest.mark.e2e

BUYER = {"dj-client": "ACCOUNT", "dj-api-key": KEY_1}
ORDERS = "/v2/shop/commercial-orders"
ONE = "/v1/shop/commercial-orders"
SLOW_PRICING_MS = 800  # the first request is still running when the second one arrives
ROUNDS = 8  # keys sent to both processes at once with nothing slowing the write down


# One database and two servers per database kind for the module: starting servers is what
# costs; every test works on an order of its own.
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of its own holding the test catalog."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ordersync.db'}"
        _load(url, catalog_bundle())
        yield url
        return
    with postgres_database() as url:
        _load(url, catalog_bundle())
        yield url


def _load(url: str, bundle: dict[str, Any]) -> None:
    upgrade(url)
    uow_factory, engine = unit_of_work_factory(Settings(database_url=url))
    try:
        load_bundle(uow_factory(), bundle)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def pricing(database_url: str) -> Iterator[SimulatorServer]:
    """Real-time pricing on: every update-lines request calls the simulator once."""
    with pricing_simulator(database_url) as server:
        _load(database_url, {"settings": {"pricingMode": "RTP", "pricingUrl": server.base_url}})
        yield server


@pytest.fixture(scope="module")
def servers(database_url: str, pricing: SimulatorServer) -> Iterator[tuple[ServerProcess, ...]]:
    env = {
        "ORDERSYNC_DATABASE_URL": database_url,
        "ORDERSYNC_WORKERS": "1",
        "ORDERSYNC_LOG_LEVEL": "WARNING",
    }
    with served_process(env) as first, served_process(env) as second:
        yield first, second


def new_order(server: ServerProcess) -> str:
    with httpx.Client(base_url=server.base_url, headers=BUYER, timeout=10) as http:
        created = http.post(ORDERS, json={})
        assert created.status_code == 201, created.text
        reference: str = created.json()["reference"]
    return reference


def version(server: ServerProcess, reference: str) -> int:
    answer = httpx.get(f"{server.base_url}{ONE}/{reference}", headers=BUYER, timeout=10)
    assert answer.status_code == 200, answer.text
    value: int = answer.json()["version"]
    return value


def update_lines(server: ServerProcess, reference: str, key: str, quantity: int) -> httpx.Response:
    return httpx.put(
        f"{server.base_url}{ORDERS}/{reference}/lines",
        json={"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": quantity}]},
        headers={**BUYER, "Idempotency-Key": key},
        timeout=30,
    )


def at_once(
    servers: tuple[ServerProcess, ...], reference: str, key: str, quantity: int
) -> list[httpx.Response]:
    """The same request with the same key, to every server, released together."""
    start = threading.Barrier(len(servers))

    def send(server: ServerProcess) -> httpx.Response:
        start.wait(timeout=10)
        return update_lines(server, reference, key, quantity)

    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        return list(pool.map(send, servers))


def assert_one_ran(answers: list[httpx.Response]) -> tuple[httpx.Response, httpx.Response]:
    """One answer is the run's own; the other is 409 IN_USE or that answer, replayed."""
    ran = [a for a in answers if a.status_code == 200 and "idempotent-replayed" not in a.headers]
    assert len(ran) == 1, [(a.status_code, dict(a.headers), a.text) for a in answers]
    [other] = [a for a in answers if a is not ran[0]]
    if other.status_code == 409:
        assert other.json()["code"] == "IDEMPOTENCY_KEY_IN_USE"
    else:
        assert other.headers["idempotent-replayed"] == "true", other.text
        assert (other.status_code, other.content) == (200, ran[0].content)
        assert other.headers["etag"] == ran[0].headers["etag"]
    return ran[0], other


def test_the_same_key_sent_to_two_processes_at_once_runs_once(
    servers: tuple[ServerProcess, ...], pricing: SimulatorServer
) -> None:
    first, second = servers
    reference = new_order(first)
    before = version(first, reference)
    pricing.reset()
    pricing.control(latency_ms=SLOW_PRICING_MS)
    key = f"e2e-{uuid.uuid4().hex}"

    ran, other = assert_one_ran(at_once(servers, reference, key, 5))

    pricing.control(latency_ms=0)
    assert other.status_code == 409  # the first was still waiting for its prices
    assert pricing.stats()["calls"] == 1
    assert version(second, reference) == before + 1
    assert ran.headers["etag"] == f'"{before + 1}"'
    # Once the first has answered, either process replays it.
    for server in servers:
        repeat = update_lines(server, reference, key, 5)
        assert repeat.headers["idempotent-replayed"] == "true"
        assert (repeat.status_code, repeat.content) == (200, ran.content)
        assert repeat.headers["etag"] == ran.headers["etag"]
    assert pricing.stats()["calls"] == 1


def test_keys_racing_for_the_same_row_never_run_twice(
    servers: tuple[ServerProcess, ...], pricing: SimulatorServer
) -> None:
    # Nothing slows the write: both processes reach the key's INSERT … ON CONFLICT together.
    reference = new_order(servers[0])
    before = version(servers[0], reference)
    pricing.reset()
    others = []
    for round_ in range(ROUNDS):
        _, other = assert_one_ran(
            at_once(servers, reference, f"e2e-{uuid.uuid4().hex}", 6 + round_)
        )
        others.append("409" if other.status_code == 409 else "replayed")
    print(f"the other request: {others}")
    assert pricing.stats()["calls"] == ROUNDS
    assert version(servers[1], reference) == before + ROUNDS
