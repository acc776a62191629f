"""The per-process catalog cache never answers with what a bundle load (by any process)
has changed since: the version read with the order sends a request on stale values round
again. Two apps on one database stand for two server processes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ordersync.api.app import create_app
from ordersync.settings import Settings
from tests.api import create_order, get_order, headers, load, put_lines
from tests.bundle import KEY_1, catalog_bundle, special_offers

INACTIVE = "key-user-cache"


@pytest.fixture
def other(database_url: str) -> Iterator[TestClient]:
    """A second process on the same database, with a cache of its own."""
    app: FastAPI = create_app(Settings(database_url=database_url))
    with TestClient(app) as client:
        yield client


def lines(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ln["offerPriceExternalId"]: ln for lo in order["logisticOrders"] for ln in lo["lines"]}


def test_a_price_loaded_by_another_process_is_seen_by_the_next_synchronise(
    client: TestClient, other: TestClient
) -> None:
    reference = create_order(other)
    assert put_lines(other, reference, [{"id": "OP-SYNC", "quantity": 2}]).status_code == 200
    other.put(f"/v1/shop/commercial-orders/{reference}/sync", headers=headers())  # cache warm
    offer = next(o for o in special_offers() if o["externalId"] == "OFR-SYNC")
    offer["prices"][0]["tiers"][0]["netUnitPrice"] = "2.75"
    try:
        load(client, {"offers": [offer]})  # the first process loads the new price
        response = other.put(f"/v1/shop/commercial-orders/{reference}/sync", headers=headers())
        assert response.status_code == 200, response.text
        assert [w["code"] for w in response.json()] == ["PRICE_CHANGED"]
        assert lines(get_order(other, reference))["OP-SYNC"]["netUnitPrice"] == "2.75"
    finally:
        load(client, {"offers": special_offers()})


def test_a_cached_caller_whose_account_was_deactivated_elsewhere_can_no_longer_write(
    client: TestClient, other: TestClient
) -> None:
    account = {"externalId": "ACC-CACHE", "name": "Cached", "stores": ["S1"]}
    user = {
        "externalId": "U-CACHE",
        "clientType": "ACCOUNT",
        "apiKey": INACTIVE,
        "accounts": ["ACC-CACHE"],
        "stores": ["S1"],
    }
    load(client, {"accounts": [{**account, "status": "ACTIVE"}], "users": [user]})
    reference = create_order(other, key=INACTIVE)  # the caller is cached by `other` now
    assert (
        put_lines(other, reference, [{"id": "OP-TIER", "quantity": 1}], key=INACTIVE).status_code
        == 200
    )
    load(client, {"accounts": [{**account, "status": "INACTIVE"}]})
    try:
        response = put_lines(other, reference, [{"id": "OP-TIER", "quantity": 3}], key=INACTIVE)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "ACCOUNT_INACTIVE"
    finally:
        load(client, {"accounts": [{**account, "status": "ACTIVE"}]})


def test_a_key_removed_from_a_user_elsewhere_is_refused_at_once(
    client: TestClient, other: TestClient
) -> None:
    users = catalog_bundle()["users"]
    u1 = next(u for u in users if u["externalId"] == "U-1")
    assert other.get("/v2/shop/commercial-orders", headers=headers(KEY_1)).status_code == 200
    load(client, {"users": [{**u1, "apiKey": "key-user-1-rotated"}]})
    try:
        # A list makes no order query: the cached caller is checked before the answer.
        response = other.get("/v2/shop/commercial-orders", headers=headers(KEY_1))
        assert response.status_code == 401, response.text
    finally:
        load(client, {"users": [u1]})


def test_a_request_that_keeps_meeting_bundle_loads_is_answered_503_then_runs_on_retry(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ordersync.domain.errors import CatalogChanged
    from ordersync.services import synchronise

    reference = create_order(client)
    real = synchronise.synchronise
    collisions = {"left": 3}  # more than the route's reruns

    def racing(*args: Any, **kwargs: Any) -> Any:
        if collisions["left"] > 0:
            collisions["left"] -= 1
            raise CatalogChanged("a load landed")
        return real(*args, **kwargs)

    monkeypatch.setattr(synchronise, "synchronise", racing)
    url = f"/v1/shop/commercial-orders/{reference}/sync"
    busy = client.put(url, headers=headers())
    assert busy.status_code == 503, busy.text
    assert busy.json()["code"] == "CATALOG_CHANGED"
    assert busy.headers["retry-after"] == "1"
    collisions["left"] = 1  # one collision: run again within the same request
    assert client.put(url, headers=headers()).status_code == 204
