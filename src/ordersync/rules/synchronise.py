"""Synchronise (ORDER-223): bring every line of a draft back in line with current data.

Planning and applying are separate so that a single blocking warning leaves the order
exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ordersync.domain.catalog import BuyerContext, CustomField, CustomFieldEntity, OfferPrice
from ordersync.domain.orders import CommercialOrder, OrderLine
from ordersync.domain.warnings import OrderWarning, WarningCode
from ordersync.rules.custom_fields import stored_value_problems
from ordersync.rules.eligibility import offer_price_refusal
from ordersync.rules.line_updates import Catalog, operation_line_limits
from ordersync.rules.pricing import tier_for
from ordersync.rules.quantities import bound_quantity


@dataclass(frozen=True)
class Quote:
    """Current unit prices of a line at a quantity; STANDARD mode reads them from the
    offer price's tiers, real-time pricing will supply them from the pricing system."""

    net_unit_price: Decimal
    gross_unit_price: Decimal
    tax_rate: Decimal


PriceSource = Callable[[OfferPrice, int], Quote]


class PricingUnavailable(Exception):
    """The price source cannot price a line (pricing system down, invalid answer): a
    blocking warning, never a guess."""


def standard_quote(offer_price: OfferPrice, quantity: int) -> Quote:
    tier = tier_for(offer_price, quantity)
    return Quote(tier.net_unit_price, tier.gross_unit_price, offer_price.tax_rate)


@dataclass
class _LineChange:
    line: OrderLine
    offer_price: OfferPrice
    quantity: int
    quote: Quote


@dataclass
class SyncPlan:
    warnings: list[OrderWarning] = field(default_factory=list)
    changes: list[_LineChange] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(w.blocked for w in self.warnings)

    @property
    def reported(self) -> list[OrderWarning]:
        """What the client is told: non-blocking warnings describe applied changes, so when
        a blocking one stops everything only the blocking ones are reported."""
        return [w for w in self.warnings if w.blocked] if self.blocked else list(self.warnings)


def _differs(line: OrderLine, change: _LineChange) -> bool:
    op, q = change.offer_price, change.quote
    return (
        line.quantity != change.quantity
        or line.net_unit_price != q.net_unit_price
        or line.gross_unit_price != q.gross_unit_price
        or line.tax_rate != q.tax_rate
        or line.variant_name != op.variant_name
        or line.variant_description != op.variant_description
        or line.classification_external_id != op.classification_external_id
    )


def plan_synchronisation(
    order: CommercialOrder,
    catalog: Catalog,
    offer_prices_by_id: Mapping[int, OfferPrice],
    custom_fields: Mapping[str, CustomField],
    ctx: BuyerContext,
    price_source: PriceSource = standard_quote,
) -> SyncPlan:
    """Every warning the order's lines raise against current data, and the changes that
    would apply if none of them is blocking. Mutates nothing."""
    plan = SyncPlan()

    def block(id_: str, code: WarningCode, detail: str) -> None:
        plan.warnings.append(OrderWarning(id_, code, detail, blocked=True))

    for key, problem in stored_value_problems(
        order.custom_fields, custom_fields, CustomFieldEntity.ORDER
    ):
        block(
            order.reference,
            WarningCode.CUSTOM_FIELD_INVALID,
            f"Order custom field {key!r} {problem}.",
        )
    for line in order.lines:
        wid = line.offer_price_external_id
        offer_price = offer_prices_by_id.get(line.offer_price_id)
        refusal = offer_price_refusal(offer_price, ctx, order.currency)
        if refusal or offer_price is None:
            code, detail = refusal or (WarningCode.OFFER_NOT_FOUND, "No offer.")
            block(wid, code, detail)
            continue
        limits, op_refusal = operation_line_limits(order, catalog.operation, offer_price, ctx)
        if op_refusal:
            block(wid, WarningCode.OPERATION_NOT_AVAILABLE, op_refusal)
            continue
        bounded = bound_quantity(line.quantity, limits)
        if not bounded.orderable:
            block(
                wid,
                WarningCode.OUT_OF_STOCK,
                f"Quantity {line.quantity} can no longer be ordered (stock {limits.stock}).",
            )
            continue
        for code, detail in bounded.adjustments:
            plan.warnings.append(OrderWarning(wid, code, detail))
        for key, problem in stored_value_problems(
            line.custom_fields, custom_fields, CustomFieldEntity.ORDER_LINE
        ):
            block(wid, WarningCode.CUSTOM_FIELD_INVALID, f"Line custom field {key!r} {problem}.")
        try:
            quote = price_source(offer_price, bounded.quantity)
        except PricingUnavailable as exc:
            block(wid, WarningCode.PRICING_UNAVAILABLE, str(exc))
            continue
        if (quote.net_unit_price, quote.gross_unit_price, quote.tax_rate) != (
            line.net_unit_price,
            line.gross_unit_price,
            line.tax_rate,
        ):
            plan.warnings.append(
                OrderWarning(
                    wid,
                    WarningCode.PRICE_CHANGED,
                    f"Net unit price {line.net_unit_price} -> {quote.net_unit_price}, gross "
                    f"{line.gross_unit_price} -> {quote.gross_unit_price}, tax rate "
                    f"{line.tax_rate} -> {quote.tax_rate}.",
                )
            )
        change = _LineChange(line, offer_price, bounded.quantity, quote)
        if _differs(line, change):
            plan.changes.append(change)
    return plan


def apply_plan(order: CommercialOrder, plan: SyncPlan, ctx: BuyerContext) -> bool:
    """Apply a non-blocked plan; True when the order changed."""
    if plan.blocked or not plan.changes:
        return False
    for change in plan.changes:
        line, q = change.line, change.quote
        if line.quantity != change.quantity:
            line.quantity = change.quantity
        line.set_amounts(
            net_unit_price=q.net_unit_price,
            gross_unit_price=q.gross_unit_price,
            tax_rate=q.tax_rate,
            currency=order.currency,
        )
        line.describe(change.offer_price)
    order.recompute_totals(ctx.now)
    return True
