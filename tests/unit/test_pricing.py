"""Tier prices at a quantity, and the best offer for a variant."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordersync.rules.pricing import best_offer_price, tier_for
from tests.unit.factories import offer_price, tier

# Deliberately out of order: the rule must not rely on the stored order of tiers.
TIERED = offer_price(tiers=(tier(100, "6.00"), tier(1, "10.00"), tier(10, "8.00")))


@pytest.mark.parametrize(
    ("quantity", "expected_net"),
    [(1, "10.00"), (9, "10.00"), (10, "8.00"), (99, "8.00"), (100, "6.00"), (5000, "6.00")],
)
def test_tier_for_picks_the_largest_minimum_at_or_below_the_quantity(
    quantity: int, expected_net: str
) -> None:
    assert tier_for(TIERED, quantity).net_unit_price == Decimal(expected_net)


def test_tier_for_a_quantity_below_every_tier_uses_the_first_tier() -> None:
    op = offer_price(tiers=(tier(50, "4.00"), tier(5, "9.00")))

    assert tier_for(op, 1).min_quantity == 5


@given(
    minimums=st.lists(st.integers(1, 20), min_size=1, max_size=6),
    quantity=st.integers(0, 25),
)
def test_tier_for_is_the_last_tier_at_or_below_the_quantity_in_minimum_order(
    minimums: list[int], quantity: int
) -> None:
    # The rule as first written: tiers sorted by minimum (a stable sort keeps equal minimums
    # in their listed order), then the last one at or below the quantity, else the first.
    tiers = tuple(tier(m, f"{i}.00") for i, m in enumerate(minimums, start=1))
    ordered = sorted(tiers, key=lambda t: t.min_quantity)
    expected = ordered[0]
    for candidate in ordered:
        if candidate.min_quantity <= quantity:
            expected = candidate

    assert tier_for(offer_price(tiers=tiers), quantity) is expected


def test_best_offer_price_of_no_candidates_is_none() -> None:
    assert best_offer_price([]) is None


def test_best_offer_price_is_the_lowest_net_unit_price() -> None:
    dear = offer_price(net="9.00", supplier_external_id="SUP-A")
    cheap = offer_price(net="8.50", supplier_external_id="SUP-B")

    assert best_offer_price([(dear, 1), (cheap, 1)]) is cheap


def test_best_offer_price_compares_prices_at_each_candidates_quantity() -> None:
    flat = offer_price(net="8.00", supplier_external_id="SUP-A")
    volume = offer_price(tiers=(tier(1, "10.00"), tier(10, "7.00")), supplier_external_id="SUP-B")

    assert best_offer_price([(flat, 1), (volume, 1)]) is flat
    assert best_offer_price([(flat, 10), (volume, 10)]) is volume


def test_best_offer_price_breaks_ties_by_supplier_external_id() -> None:
    from_b = offer_price(net="8.00", supplier_external_id="SUP-B", external_id="OP-A")
    from_a = offer_price(net="8.00", supplier_external_id="SUP-A", external_id="OP-Z")

    assert best_offer_price([(from_b, 1), (from_a, 1)]) is from_a
    assert best_offer_price([(from_a, 1), (from_b, 1)]) is from_a
