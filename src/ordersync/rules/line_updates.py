"""Update lines (ORDER-150): add, change and remove lines of a draft order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ordersync.domain.catalog import BuyerContext, OfferPrice, Operation
from ordersync.domain.errors import ErrorCode, FieldError, Unprocessable
from ordersync.domain.orders import CommercialOrder, OrderLine, SourceType
from ordersync.domain.warnings import OrderWarning, WarningCode
from ordersync.rules.eligibility import offer_price_refusal, operation_refusal
from ordersync.rules.pricing import (
    PriceSource,
    PricingNeed,
    Quote,
    best_offer_price,
    price_key,
    standard_quote,
)
from ordersync.rules.quantities import BoundedQuantity, QuantityLimits, bound_quantity

MAX_LINE_UPDATES = 500
MAX_LINES_PER_ORDER = 1000
MAX_QUANTITY = 1_000_000_000  # per line; keeps ADD_QUANTITY within the integer column
MAX_PRODUCT_COUNT = 2**31 - 1  # units per order: the product count is a 32-bit integer


class UpdateAction(StrEnum):
    REPLACE_QUANTITY = "REPLACE_QUANTITY"
    ADD_QUANTITY = "ADD_QUANTITY"
    REMOVE_QUANTITY = "REMOVE_QUANTITY"


class LineType(StrEnum):
    OFFER_PRICE = "OFFER_PRICE"
    VARIANT = "VARIANT"


@dataclass(frozen=True)
class LineUpdate:
    id: str  # external id of an offer price or a variant, per the request's lineType
    quantity: int
    action: UpdateAction = UpdateAction.REPLACE_QUANTITY
    custom_fields: Mapping[str, Any] | None = None  # checked, keyed by field external id


@dataclass(frozen=True)
class Catalog:
    """What the rules may read of the catalog for one request."""

    offer_prices: Mapping[str, OfferPrice]  # by external id
    offer_prices_of_variant: Mapping[str, Sequence[OfferPrice]]  # by variant external id
    operation: Operation | None = None


def new_quantity(current: int, update: LineUpdate) -> int:
    if update.action is UpdateAction.ADD_QUANTITY:
        return current + update.quantity
    if update.action is UpdateAction.REMOVE_QUANTITY:
        return max(current - update.quantity, 0)
    return update.quantity


def operation_line_limits(
    order: CommercialOrder,
    operation: Operation | None,
    offer_price: OfferPrice,
    ctx: BuyerContext,
) -> tuple[QuantityLimits, str | None]:
    """Limits of a line, with the operation's constraints when the order comes from an
    operation that contains the variant; the second value says why the operation refuses."""
    local_stock = not ctx.stock_from_pricing
    op_line = (
        operation.line_for(offer_price.variant_id)
        if order.source_type is SourceType.OPERATION and operation is not None
        else None
    )
    if operation is None or op_line is None:
        return QuantityLimits.of(offer_price, local_stock=local_stock), None
    limits = QuantityLimits.of(offer_price, op_line, local_stock=local_stock)
    return limits, operation_refusal(operation, ctx)


def price_line(
    line: OrderLine,
    offer_price: OfferPrice,
    currency: str,
    quote: Quote | None = None,
) -> None:
    """Set the line's prices from `quote` (default: the stored tier for its quantity) and
    copy the variant's current description onto it."""
    quote = quote or standard_quote("", offer_price, line.quantity)
    line.set_amounts(
        net_unit_price=quote.net_unit_price,
        gross_unit_price=quote.gross_unit_price,
        tax_rate=quote.tax_rate,
        currency=currency,
        unit_tax=quote.unit_tax,
    )
    line.describe(offer_price)


def within_quoted_stock(
    bounded: BoundedQuantity, limits: QuantityLimits, quote: Quote
) -> BoundedQuantity:
    """The bounded quantity, lowered to the stock the pricing system quoted (if any). Its
    adjustments are the local ones (min, step, max) followed by the stock's: bounding again
    an already bounded quantity finds only the latter."""
    if quote.available_quantity is None:
        return bounded
    lowered = bound_quantity(bounded.quantity, limits._replace(stock=quote.available_quantity))
    return lowered._replace(adjustments=bounded.adjustments + lowered.adjustments)


def check_request(updates: Sequence[LineUpdate]) -> None:
    """Request-level limits: at most 500 updates, each id once."""
    if len(updates) > MAX_LINE_UPDATES:
        raise Unprocessable(
            ErrorCode.TOO_MANY_LINE_UPDATES,
            f"At most {MAX_LINE_UPDATES} line updates per request ({len(updates)} given).",
        )
    seen: set[str] = set()
    dupes: list[FieldError] = []
    for i, update in enumerate(updates):
        if update.id in seen:
            dupes.append(
                FieldError(
                    ErrorCode.DUPLICATE_LINE_ID,
                    f"updateOrderCommercialLines[{i}].id",
                    f"Line {update.id!r} appears more than once.",
                )
            )
        seen.add(update.id)
    if dupes:
        raise Unprocessable(
            ErrorCode.DUPLICATE_LINE_ID,
            "The same line id appears more than once in the request.",
            dupes,
        )


@dataclass(frozen=True)
class _Skip:
    warning: OrderWarning


@dataclass(frozen=True)
class _Remove:
    line: OrderLine


@dataclass(frozen=True)
class _Set:
    """Keep or add the line of `offer_price` at the bounded quantity."""

    offer_price: OfferPrice
    line: OrderLine | None
    bounded: BoundedQuantity
    limits: QuantityLimits
    custom_fields: Mapping[str, Any] | None

    @property
    def key(self) -> str:
        return price_key(self.line, self.offer_price)


_Decision = _Skip | _Remove | _Set


class _LineUpdater:
    """Decides each update against the order as it is (no change), then applies the decisions
    with their prices. Deciding first is what lets a real-time service price every line in
    play with one call before anything changes."""

    def __init__(
        self, order: CommercialOrder, line_type: LineType, catalog: Catalog, ctx: BuyerContext
    ) -> None:
        self.order = order
        self.line_type = line_type
        self.catalog = catalog
        self.ctx = ctx
        self.warnings: list[OrderWarning] = []
        self.by_offer_price = {ln.offer_price_external_id: ln for ln in order.lines}
        self.by_variant = {ln.variant_external_id: ln for ln in order.lines}

    def skip(self, id_: str, code: WarningCode, detail: str) -> _Skip:
        return _Skip(OrderWarning(id_, code, detail, blocked=False))

    def target(self, update: LineUpdate) -> tuple[OfferPrice | None, OrderLine | None]:
        if self.line_type is LineType.OFFER_PRICE:
            return (self.catalog.offer_prices.get(update.id), self.by_offer_price.get(update.id))
        line = self.by_variant.get(update.id)
        if line is not None:
            return self.catalog.offer_prices.get(line.offer_price_external_id), line
        return self.best_for_variant(update), None

    def best_for_variant(self, update: LineUpdate) -> OfferPrice | None:
        candidates: list[tuple[OfferPrice, int]] = []
        for offer_price in self.catalog.offer_prices_of_variant.get(update.id, ()):
            if offer_price_refusal(offer_price, self.ctx, self.order.currency):
                continue
            limits, op_refusal = operation_line_limits(
                self.order, self.catalog.operation, offer_price, self.ctx
            )
            bounded = bound_quantity(new_quantity(0, update), limits)
            if op_refusal is None and bounded.orderable:
                candidates.append((offer_price, bounded.quantity))
        return best_offer_price(candidates)

    def decide(self, update: LineUpdate) -> _Decision:
        """What one update would do, without doing it."""
        offer_price, line = self.target(update)
        quantity = new_quantity(line.quantity if line else 0, update)
        if quantity > MAX_QUANTITY:
            raise Unprocessable(
                ErrorCode.INVALID_REQUEST,
                f"Line {update.id} would hold {quantity} units; at most {MAX_QUANTITY}.",
            )
        if quantity == 0:
            if line is None:
                return self.skip(
                    update.id,
                    WarningCode.LINE_NOT_ON_ORDER,
                    "The line is not on the order; nothing to remove.",
                )
            return _Remove(line)
        refusal = offer_price_refusal(offer_price, self.ctx, self.order.currency)
        if refusal or offer_price is None:
            code, detail = refusal or (WarningCode.OFFER_NOT_FOUND, "No offer.")
            if self.line_type is LineType.VARIANT and offer_price is None and line is None:
                code, detail = self.variant_refusal(update.id)
            # The line's offer price names the warning; a VARIANT with no line, the variant.
            return self.skip(line.offer_price_external_id if line else update.id, code, detail)
        limits, op_refusal = operation_line_limits(
            self.order, self.catalog.operation, offer_price, self.ctx
        )
        if op_refusal:
            return self.skip(
                offer_price.external_id, WarningCode.OPERATION_NOT_AVAILABLE, op_refusal
            )
        bounded = bound_quantity(quantity, limits)
        if not bounded.orderable:
            return self.skip(
                offer_price.external_id,
                WarningCode.OUT_OF_STOCK,
                f"Quantity {quantity} cannot be ordered within min "
                f"{limits.minimum}, max {limits.maximum}, step {limits.step}, "
                f"stock {limits.stock}.",
            )
        return _Set(offer_price, line, bounded, limits, update.custom_fields)

    def apply(self, decision: _Decision, price_source: PriceSource) -> bool:
        """Apply one decision; False (with a warning) when the line was skipped."""
        if isinstance(decision, _Skip):
            self.warnings.append(decision.warning)
            return False
        if isinstance(decision, _Remove):
            self.order.remove_line(decision.line)
            return True
        offer_price = decision.offer_price
        quote = price_source(decision.key, offer_price, decision.bounded.quantity)
        bounded = within_quoted_stock(decision.bounded, decision.limits, quote)
        if not quote.available or not bounded.orderable:
            self.warnings.append(
                OrderWarning(
                    offer_price.external_id,
                    WarningCode.OUT_OF_STOCK,
                    "The pricing system says the offer is not available"
                    + (f" in quantity {decision.bounded.quantity}." if quote.available else "."),
                )
            )
            return False
        self.warnings.extend(
            OrderWarning(offer_price.external_id, code, detail)
            for code, detail in bounded.adjustments
        )
        line = decision.line or self.add_line(offer_price)
        line.quantity = bounded.quantity
        if decision.custom_fields is not None:
            merged = {**line.custom_fields, **decision.custom_fields}
            line.custom_fields = {k: v for k, v in merged.items() if v is not None}
        # Lowered to the quoted stock, the line keeps the unit prices quoted for the quantity
        # asked: one call per request, never a second round for the new quantity.
        price_line(line, offer_price, self.order.currency, quote)
        return True

    def variant_refusal(self, variant_external_id: str) -> tuple[WarningCode, str]:
        offers = self.catalog.offer_prices_of_variant.get(variant_external_id, ())
        for offer_price in offers:
            refusal = offer_price_refusal(offer_price, self.ctx, self.order.currency)
            if refusal:
                return refusal
            _, op_refusal = operation_line_limits(
                self.order, self.catalog.operation, offer_price, self.ctx
            )
            if op_refusal:
                return WarningCode.OPERATION_NOT_AVAILABLE, op_refusal
        if offers:
            return WarningCode.OUT_OF_STOCK, "No offer can serve this quantity."
        return WarningCode.OFFER_NOT_FOUND, f"No offer for variant {variant_external_id}."

    def add_line(self, offer_price: OfferPrice) -> OrderLine:
        lo = self.order.logistic_order_for(offer_price.supplier_id)
        if lo is None:
            lo = self.order.add_logistic_order(
                offer_price.supplier_id,
                offer_price.supplier_external_id,
                self.ctx.account.default_shipping_address,
                self.ctx.now,
            )
        line = OrderLine(
            variant_id=offer_price.variant_id,
            variant_external_id=offer_price.variant_external_id,
            offer_price_id=offer_price.id,
            offer_price_external_id=offer_price.external_id,
            quantity=0,
        )
        lo.lines.append(line)
        self.by_offer_price[offer_price.external_id] = line
        self.by_variant[offer_price.variant_external_id] = line
        return line


def line_update_pricing_needs(
    order: CommercialOrder,
    updates: Sequence[LineUpdate],
    line_type: LineType,
    catalog: Catalog,
    ctx: BuyerContext,
) -> list[PricingNeed]:
    """The lines an update-lines request would keep or add, at their bounded quantities:
    what to ask the pricing system, in one call, before applying anything."""
    check_request(updates)
    updater = _LineUpdater(order, line_type, catalog, ctx)
    return [
        PricingNeed(d.key, d.line, d.offer_price, d.bounded.quantity)
        for d in (updater.decide(u) for u in updates)
        if isinstance(d, _Set)
    ]


def apply_line_updates(
    order: CommercialOrder,
    updates: Sequence[LineUpdate],
    line_type: LineType,
    catalog: Catalog,
    ctx: BuyerContext,
    price_source: PriceSource = standard_quote,
) -> list[OrderWarning]:
    """Apply each update that is eligible, skip the others with a warning; raise 422 when
    none could be applied or the order would exceed 1,000 lines. All warnings are
    non-blocking. The caller commits only if this returns (a PricingUnavailable from the
    price source also leaves it uncommitted)."""
    check_request(updates)
    updater = _LineUpdater(order, line_type, catalog, ctx)
    decisions = [updater.decide(update) for update in updates]
    applied = [updater.apply(decision, price_source) for decision in decisions]
    if updates and not any(applied):
        raise Unprocessable(
            ErrorCode.NO_ELIGIBLE_LINE,
            "None of the requested lines is eligible.",
            [FieldError(w.code, w.id, w.detail) for w in updater.warnings],
        )
    order.drop_empty_logistic_orders()
    if len(order.lines) > MAX_LINES_PER_ORDER:
        raise Unprocessable(
            ErrorCode.TOO_MANY_LINES, f"An order holds at most {MAX_LINES_PER_ORDER} lines."
        )
    if sum(ln.quantity for ln in order.lines) > MAX_PRODUCT_COUNT:
        raise Unprocessable(
            ErrorCode.INVALID_REQUEST, f"An order holds at most {MAX_PRODUCT_COUNT} units."
        )
    order.recompute_totals(ctx.now)
    return updater.warnings


def delete_lines(
    order: CommercialOrder, offer_price_external_ids: Sequence[str], now: datetime
) -> None:
    """Remove the named lines, all or none: an id not on the order is a 422 naming it."""
    by_id = {ln.offer_price_external_id: ln for ln in order.lines}
    problems = [
        FieldError(
            ErrorCode.LINE_NOT_ON_ORDER,
            f"[{i}].offerPriceId",
            f"No line of offer price {ext} on order {order.reference}.",
        )
        for i, ext in enumerate(offer_price_external_ids)
        if ext not in by_id
    ]
    seen: set[str] = set()
    for i, ext in enumerate(offer_price_external_ids):
        if ext in seen:
            problems.append(
                FieldError(
                    ErrorCode.DUPLICATE_LINE_ID,
                    f"[{i}].offerPriceId",
                    f"Line {ext!r} appears more than once.",
                )
            )
        seen.add(ext)
    if problems:
        raise Unprocessable(ErrorCode(problems[0].code), problems[0].message, problems)
    for ext in offer_price_external_ids:
        order.remove_line(by_id[ext])
    order.drop_empty_logistic_orders()
    order.recompute_totals(now)
