"""Synchronise (ORDER-223): bring every line of a draft back in line with current data.

Planning and applying are separate so that a single blocking warning leaves the order
exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from ordersync.domain.catalog import BuyerContext, CustomField, CustomFieldEntity, OfferPrice
from ordersync.domain.money import round_money
from ordersync.domain.orders import CommercialOrder, OrderLine
from ordersync.domain.pricing import PricingUnavailable
from ordersync.domain.warnings import OrderWarning, WarningCode
from ordersync.rules.custom_fields import stored_value_problems
from ordersync.rules.eligibility import offer_price_refusal
from ordersync.rules.line_updates import (
    Catalog,
    operation_line_limits,
    price_line,
    within_quoted_stock,
)
from ordersync.rules.pricing import (
    PriceSource,
    PricingNeed,
    Quote,
    price_key,
    standard_quote,
)
from ordersync.rules.quantities import BoundedQuantity, QuantityLimits, bound_quantity

__all__ = [
    "PriceSource",
    "PricingUnavailable",
    "Quote",
    "SyncPlan",
    "SyncPreview",
    "apply_plan",
    "plan_synchronisation",
    "preview_plan",
    "standard_quote",
    "sync_pricing_needs",
]


class _LineChange(NamedTuple):
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


def _differs(line: OrderLine, change: _LineChange, currency: str) -> bool:
    op, q = change.offer_price, change.quote
    return (
        line.quantity != change.quantity
        or (
            q.unit_tax is not None
            and line.tax_amount != round_money(q.unit_tax * change.quantity, currency)
        )
        or line.net_unit_price != q.net_unit_price
        or line.gross_unit_price != q.gross_unit_price
        or line.tax_rate != q.tax_rate
        or line.variant_name != op.variant_name
        or line.variant_description != op.variant_description
        or line.classification_external_id != op.classification_external_id
    )


class _Bounded(NamedTuple):
    line: OrderLine
    offer_price: OfferPrice
    limits: QuantityLimits
    bounded: BoundedQuantity


def _check_line(
    order: CommercialOrder,
    line: OrderLine,
    catalog: Catalog,
    offer_prices_by_id: Mapping[int, OfferPrice],
    ctx: BuyerContext,
) -> _Bounded | tuple[WarningCode, str]:
    """The line's current offer and its quantity bounded by the local rules, or the blocking
    reason it can no longer be ordered."""
    offer_price = offer_prices_by_id.get(line.offer_price_id)
    refusal = offer_price_refusal(offer_price, ctx, order.currency)
    if refusal or offer_price is None:
        return refusal or (WarningCode.OFFER_NOT_FOUND, "No offer.")
    limits, op_refusal = operation_line_limits(order, catalog.operation, offer_price, ctx)
    if op_refusal:
        return WarningCode.OPERATION_NOT_AVAILABLE, op_refusal
    bounded = bound_quantity(line.quantity, limits)
    if not bounded.orderable:
        return (
            WarningCode.OUT_OF_STOCK,
            f"Quantity {line.quantity} can no longer be ordered (stock {limits.stock}).",
        )
    return _Bounded(line, offer_price, limits, bounded)


def sync_pricing_needs(
    order: CommercialOrder,
    catalog: Catalog,
    offer_prices_by_id: Mapping[int, OfferPrice],
    ctx: BuyerContext,
) -> list[PricingNeed]:
    """The lines a synchronisation would price, at the quantities the local rules bound them
    to: what to ask the pricing system, in one call, before planning."""
    needs = []
    for line in order.lines:
        checked = _check_line(order, line, catalog, offer_prices_by_id, ctx)
        if isinstance(checked, _Bounded):
            needs.append(
                PricingNeed(
                    price_key(line, checked.offer_price),
                    line,
                    checked.offer_price,
                    checked.bounded.quantity,
                )
            )
    return needs


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
        checked = _check_line(order, line, catalog, offer_prices_by_id, ctx)
        if not isinstance(checked, _Bounded):
            block(wid, *checked)
            continue
        offer_price = checked.offer_price
        for code, detail in checked.bounded.adjustments:
            plan.warnings.append(OrderWarning(wid, code, detail))
        for key, problem in stored_value_problems(
            line.custom_fields, custom_fields, CustomFieldEntity.ORDER_LINE
        ):
            block(wid, WarningCode.CUSTOM_FIELD_INVALID, f"Line custom field {key!r} {problem}.")
        try:
            quote = price_source(
                price_key(line, offer_price), offer_price, checked.bounded.quantity
            )
        except PricingUnavailable as exc:
            block(wid, WarningCode.PRICING_UNAVAILABLE, str(exc))
            continue
        if not quote.available:
            block(wid, WarningCode.OUT_OF_STOCK, "The pricing system says it is not available.")
            continue
        bounded = within_quoted_stock(checked.bounded, checked.limits, quote)
        if not bounded.orderable:
            block(
                wid,
                WarningCode.OUT_OF_STOCK,
                f"Quantity {line.quantity} can no longer be ordered (available "
                f"{quote.available_quantity}).",
            )
            continue
        if bounded is not checked.bounded:  # the quoted stock lowered it
            plan.warnings += [
                OrderWarning(wid, code, detail)
                for code, detail in bounded.adjustments[len(checked.bounded.adjustments) :]
            ]
        if quote.prices != (line.net_unit_price, line.gross_unit_price, line.tax_rate):
            plan.warnings.append(
                OrderWarning(
                    wid,
                    WarningCode.PRICE_CHANGED,
                    # `!s`: str() of a Decimal is a quarter of the time of its format().
                    f"Net unit price {line.net_unit_price!s} -> {quote.net_unit_price!s}, "
                    f"gross {line.gross_unit_price!s} -> {quote.gross_unit_price!s}, tax rate "
                    f"{line.tax_rate!s} -> {quote.tax_rate!s}.",
                )
            )
        change = _LineChange(line, offer_price, bounded.quantity, quote)
        if _differs(line, change, order.currency):
            plan.changes.append(change)
    return plan


@dataclass(frozen=True)
class LinePreview:
    line_id: int | None
    offer_price_external_id: str
    quantity_before: int
    quantity_after: int
    net_unit_price_before: Decimal
    net_unit_price_after: Decimal
    gross_unit_price_before: Decimal
    gross_unit_price_after: Decimal


@dataclass(frozen=True)
class SyncPreview:
    """What a synchronisation would do (SPEC §7): the warnings it would answer, each line
    before and after, and whether anything would change."""

    warnings: list[OrderWarning]
    lines: list[LinePreview]
    would_change: bool
    currency: str


def preview_plan(order: CommercialOrder, plan: SyncPlan) -> SyncPreview:
    """The plan as a preview; a blocked plan changes nothing, so its lines stay as they
    are."""
    changes = {} if plan.blocked else {id(c.line): c for c in plan.changes}
    lines = []
    for line in order.lines:
        change = changes.get(id(line))
        lines.append(
            LinePreview(
                line.id,
                line.offer_price_external_id,
                line.quantity,
                change.quantity if change else line.quantity,
                line.net_unit_price,
                change.quote.net_unit_price if change else line.net_unit_price,
                line.gross_unit_price,
                change.quote.gross_unit_price if change else line.gross_unit_price,
            )
        )
    return SyncPreview(plan.reported, lines, bool(changes), order.currency)


def apply_plan(order: CommercialOrder, plan: SyncPlan, ctx: BuyerContext) -> bool:
    """Apply a non-blocked plan; True when the order changed."""
    if plan.blocked or not plan.changes:
        return False
    for change in plan.changes:
        line, q = change.line, change.quote
        if line.quantity != change.quantity:
            line.quantity = change.quantity
        price_line(line, change.offer_price, order.currency, q)
    order.recompute_totals(ctx.now)
    return True
