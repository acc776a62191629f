"""Prices of an offer at a quantity: from the stored tiers (STANDARD) or from the quotes the
pricing system gave for this request (RTP), and choosing the best offer for a variant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple, Protocol

from ordersync.domain.catalog import OfferPrice, PriceTier
from ordersync.domain.orders import OrderLine
from ordersync.domain.pricing import LineQuote, PricingUnavailable

RATE_PLACES = Decimal("0.0001")  # the RATE column's scale


def tier_for(offer_price: OfferPrice, quantity: int) -> PriceTier:
    """The tier with the largest minimum at or below the quantity (of tiers with the same
    minimum, the last listed), or below all, the one with the smallest minimum (the first
    listed). One pass, no sort: every priced line of every write asks, and most offers
    have a single tier."""
    tiers = offer_price.tiers
    if len(tiers) == 1:
        return tiers[0]
    chosen: PriceTier | None = None
    lowest = tiers[0]
    for tier in tiers:
        if tier.min_quantity < lowest.min_quantity:
            lowest = tier
        if tier.min_quantity <= quantity and (
            chosen is None or tier.min_quantity >= chosen.min_quantity
        ):
            chosen = tier
    return lowest if chosen is None else chosen


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


class Quote(NamedTuple):
    """Current unit prices of a line at a quantity, and what the pricing system says of its
    availability (STANDARD quotes are always available: stock is checked locally). A named
    tuple: one per line of every priced write (rules.quantities says why)."""

    net_unit_price: Decimal
    gross_unit_price: Decimal
    tax_rate: Decimal  # percent; for a real-time quote derived from its unit tax
    unit_tax: Decimal | None = None  # real-time: the tax of one unit, as quoted
    available: bool = True
    available_quantity: int | None = None  # real-time stock; None: unlimited

    @classmethod
    def of(cls, line_quote: LineQuote) -> Quote:
        net = line_quote.net_unit_price
        rate = (line_quote.tax_amount * 100 / net).quantize(RATE_PLACES) if net else Decimal(0)
        return cls(
            net,
            line_quote.gross_unit_price,
            rate,
            unit_tax=line_quote.tax_amount,
            available=line_quote.available,
            available_quantity=line_quote.available_quantity,
        )

    @property
    def prices(self) -> tuple[Decimal, Decimal, Decimal]:
        """What PRICE_CHANGED compares: net, gross and tax rate."""
        return self.net_unit_price, self.gross_unit_price, self.tax_rate


class PriceSource(Protocol):
    """The quote of one line (`key`, see price_key) at a quantity; raises
    PricingUnavailable when there is none."""

    def __call__(self, key: str, offer_price: OfferPrice, quantity: int) -> Quote: ...


def standard_quote(key: str, offer_price: OfferPrice, quantity: int) -> Quote:
    """The stored tier for the quantity (`key` is not needed: every line of an offer price
    has the same tiers)."""
    tier = tier_for(offer_price, quantity)
    return Quote(tier.net_unit_price, tier.gross_unit_price, offer_price.tax_rate)


def price_key(line: OrderLine | None, offer_price: OfferPrice) -> str:
    """How a line is named to the pricing system: its id, or `new:<offer price external id>`
    for a line this request would add (an order holds one line per offer price)."""
    if line is not None and line.id is not None:
        return str(line.id)
    return f"new:{offer_price.external_id}"


@dataclass(frozen=True)
class PricingNeed:
    """A line the rules would keep or add, at the quantity they bounded it to: what one
    real-time pricing call asks about."""

    key: str
    line: OrderLine | None
    offer_price: OfferPrice
    quantity: int


@dataclass(frozen=True)
class RealTimeQuotes:
    """A PriceSource over the answer of one pricing call (or its failure). A line asked at
    another quantity than it is now being priced at was not quoted: the catalog changed in
    between, and no price is guessed."""

    quotes: Mapping[str, LineQuote] = field(default_factory=dict)
    quantities: Mapping[str, int] = field(default_factory=dict)
    failure: str | None = None

    def __call__(self, key: str, offer_price: OfferPrice, quantity: int) -> Quote:
        if self.failure is not None:
            raise PricingUnavailable(self.failure)
        line_quote = self.quotes.get(key)
        if line_quote is None or self.quantities.get(key) != quantity:
            raise PricingUnavailable(
                f"The pricing system was not asked about line {key} at quantity {quantity}."
            )
        return Quote.of(line_quote)
