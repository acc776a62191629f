"""Synchronise preview (SPEC §7): `?dryRun=true` answers what the synchronisation would do,
applies nothing, bumps no version; the real call right after applies exactly that."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import get_order, headers
from tests.integration.outside_systems import restore_tenant, set_tenant
from tests.integration.test_synchronise import (
    Catalog,
    catalog,  # noqa: F401  (fixture)
    lines_by_offer,
    order_with,
    tiers,
)
from tests.simulator_servers import pricing_simulator

ONE = "/v1/shop/commercial-orders"


def preview(client: TestClient, reference: str) -> dict[str, Any]:
    response = client.put(f"{ONE}/{reference}/sync?dryRun=true", headers=headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def after_of(order: dict[str, Any]) -> dict[str, tuple[int, str, str]]:
    return {
        ext: (ln["quantity"], ln["netUnitPrice"], ln["grossUnitPrice"])
        for ext, ln in lines_by_offer(order).items()
    }


def previewed_after(body: dict[str, Any]) -> dict[str, tuple[int, str, str]]:
    return {
        ln["offerPriceId"]: (
            ln["quantityAfter"],
            ln["netUnitPriceAfter"],
            ln["grossUnitPriceAfter"],
        )
        for ln in body["lines"]
    }


# Each case: the lines of the order, then what changes in the catalog, then the warning kind
# the synchronisation raises.
Change = Callable[[Catalog], None]
CASES: list[tuple[str, list[dict[str, Any]], Change, str, bool]] = [
    (
        "price changed",
        [{"id": "OP-SYNC", "quantity": 10}],
        lambda c: c.offer("OFR-SYNC", tiers=tiers("2.50", "4.00")),
        "PRICE_CHANGED",
        False,
    ),
    (
        "quantity bounded by stock",
        [{"id": "OP-SYNC", "quantity": 40}],
        lambda c: c.offer("OFR-SYNC", stock=25),
        "QUANTITY_ADJUSTED_STOCK",
        False,
    ),
    (
        "quantity raised to the minimum",
        [{"id": "OP-SYNC", "quantity": 4}],
        lambda c: c.offer("OFR-SYNC", minOrderQuantity=6),
        "QUANTITY_ADJUSTED_MIN",
        False,
    ),
    (
        "quantity lowered to the maximum",
        [{"id": "OP-SYNC", "quantity": 40}],
        lambda c: c.offer("OFR-SYNC", maxOrderQuantity=30),
        "QUANTITY_ADJUSTED_MAX",
        False,
    ),
    (
        "quantity rounded to the step",
        [{"id": "OP-SYNC", "quantity": 7}],
        lambda c: c.offer("OFR-SYNC", quantityStep=5),
        "QUANTITY_ADJUSTED_STEP",
        False,
    ),
    (
        "supplier inactive",
        [{"id": "OP-SYNC", "quantity": 3}, {"id": "OP-SYNC-B", "quantity": 2}],
        lambda c: c.supplier("SUP-B", "INACTIVE"),
        "SUPPLIER_INACTIVE",
        True,
    ),
    (
        "out of stock",
        [{"id": "OP-SYNC", "quantity": 3}],
        lambda c: c.offer("OFR-SYNC", stock=0),
        "OUT_OF_STOCK",
        True,
    ),
    (
        "not eligible any more",
        [{"id": "OP-SYNC", "quantity": 3}],
        lambda c: c.offer("OFR-SYNC", accounts=["ACC-2"]),
        "LINE_NOT_ELIGIBLE",
        True,
    ),
]


@pytest.mark.parametrize(
    ("case", "lines", "change", "code", "blocked"), CASES, ids=[c[0] for c in CASES]
)
def test_the_preview_says_what_the_real_call_then_applies(
    client: TestClient,
    catalog: Catalog,  # noqa: F811
    case: str,
    lines: list[dict[str, Any]],
    change: Change,
    code: str,
    blocked: bool,
) -> None:
    reference = order_with(client, lines)
    change(catalog)
    before = get_order(client, reference)

    body = preview(client, reference)

    assert code in {w["code"] for w in body["warnings"]}
    assert all(w["blocked"] for w in body["warnings"]) if blocked else True
    assert body["wouldChange"] is not blocked
    assert get_order(client, reference) == before  # nothing applied, same version

    real = client.put(f"{ONE}/{reference}/sync", headers=headers())
    assert real.status_code == 200, real.text
    assert real.json() == body["warnings"]
    after = get_order(client, reference)
    assert after_of(after) == previewed_after(body)
    assert (after["version"] == before["version"]) is blocked


def test_a_preview_of_an_order_in_line_says_it_would_change_nothing(client: TestClient) -> None:
    reference = order_with(client, [{"id": "OP-SYNC", "quantity": 2}])
    body = preview(client, reference)
    assert body["warnings"] == [] and body["wouldChange"] is False
    (line,) = body["lines"]
    assert (line["quantityBefore"], line["quantityAfter"]) == (2, 2)
    assert line["netUnitPriceBefore"] == line["netUnitPriceAfter"] == "3.00"


def test_a_preview_answers_404_for_another_accounts_order(client: TestClient) -> None:
    reference = order_with(client, [{"id": "OP-SYNC", "quantity": 2}])
    response = client.put(f"{ONE}/{reference}/sync?dryRun=true", headers=headers("key-user-2"))
    assert response.status_code == 404


def test_a_real_time_preview_calls_the_pricing_system_once_and_applies_nothing(
    client: TestClient, database_url: str
) -> None:
    reference = order_with(
        client, [{"id": "OP-SYNC", "quantity": 10}, {"id": "OP-TIER", "quantity": 3}]
    )
    with pricing_simulator(database_url) as pricing:
        set_tenant(client, pricingMode="RTP", pricingUrl=pricing.base_url)
        try:
            before = get_order(client, reference)
            calls = pricing.stats()["calls"]
            body = preview(client, reference)
            assert pricing.stats()["calls"] == calls + 1
            assert get_order(client, reference) == before
            assert body["wouldChange"] is True  # GOLD's discount reprices both lines
            real = client.put(f"{ONE}/{reference}/sync", headers=headers())
            assert real.status_code == 200, real.text
            assert after_of(get_order(client, reference)) == previewed_after(body)
        finally:
            restore_tenant(client)
