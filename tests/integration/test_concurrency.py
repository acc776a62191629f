"""Concurrent writers of one order never lose an update."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from tests.api import create_order, get_order, put_lines

WRITERS = 20


def test_concurrent_line_updates_on_one_order_are_all_applied(client: TestClient) -> None:
    reference = create_order(client)
    ids = [f"OP-{i:04d}" for i in range(1, WRITERS + 1)]
    assert put_lines(client, reference, [{"id": i, "quantity": 1} for i in ids]).status_code == 200
    version_before = get_order(client, reference)["version"]

    def write(n: int) -> int:
        response = put_lines(client, reference, [{"id": ids[n], "quantity": 100 + n}])
        return int(response.status_code)

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        statuses = list(pool.map(write, range(WRITERS)))

    assert statuses == [200] * WRITERS
    order = get_order(client, reference)
    quantities = {
        ln["offerPriceExternalId"]: ln["quantity"]
        for lo in order["logisticOrders"]
        for ln in lo["lines"]
    }
    assert quantities == {ids[n]: 100 + n for n in range(WRITERS)}
    assert order["version"] == version_before + WRITERS
    assert order["productCount"] == sum(100 + n for n in range(WRITERS))
