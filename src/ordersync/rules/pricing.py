"""Prices of an offer at a quantity, and choosing the best offer for a variant."""

from __future__ import annotations

from collections.abc import Iterable

from ordersync.domain.catalog import OfferPrice, PriceTier


def tier_for(offer_price: OfferPrice, quantity: int) -> PriceTier:
    """The tier with the largest minimum at or below the quantity (the first tier below all)."""
    tiers = sorted(offer_price.tiers, key=lambda t: t.min_quantity)
    chosen = tiers[0]
    for tier in tiers:
        if tier.min_quantity <= quantity:
            chosen = tier
    return chosen


def best_offer_price(candidates: Iterable[tuple[OfferPrice, int]]) -> OfferPrice | None:
    """Lowest net unit price at each candidate's (bounded) quantity, ties broken by the
    supplier's external id."""
    ranked = sorted(
        candidates,
        key=lambda c: (
            tier_for(c[0], c[1]).net_unit_price,
            c[0].supplier_external_id,
            c[0].external_id,
        ),
    )
    return ranked[0][0] if ranked else None
