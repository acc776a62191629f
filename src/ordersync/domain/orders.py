"""The commercial order, its logistic orders (one per supplier) and their lines.

Plain classes; the database adapter maps them imperatively, so the rules can work on
them with no session in sight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ordersync.domain.catalog import OfferPrice
from ordersync.domain.cpq import CpqResult
from ordersync.domain.errors import ErrorCode, Unprocessable
from ordersync.domain.money import MAX_AMOUNT, ZERO, line_amounts
from ordersync.domain.statuses import LogisticOrderStatus


class CheckoutType(StrEnum):
    ORDER_BASED = "ORDER_BASED"
    CART_BASED = "CART_BASED"


class SourceType(StrEnum):
    OPERATION = "OPERATION"


class OrderIdType(StrEnum):
    """How a request names an order: its public reference, its id, or its external id."""

    REFERENCE = "REFERENCE"
    DJUST_ID = "DJUST_ID"
    EXTERNAL_ID = "EXTERNAL_ID"


@dataclass
class LogisticOrderRecord:
    values: dict[str, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class OrderRecord:
    """An order as stored, for reading only (its answer): column name -> value, for the
    order, each logistic order and each line."""

    values: dict[str, Any]
    logistic_orders: list[LogisticOrderRecord]


class OrderLine:
    id: int | None
    external_id: str | None
    commercial_order_id: int | None
    logistic_order: LogisticOrder | None
    variant_id: int
    variant_external_id: str
    offer_price_id: int
    offer_price_external_id: str
    quantity: int
    net_unit_price: Decimal
    gross_unit_price: Decimal
    tax_rate: Decimal
    tax_amount: Decimal
    total_net: Decimal
    total_gross: Decimal
    variant_name: str
    variant_description: str | None
    classification_external_id: str | None
    custom_fields: dict[str, Any]
    cpq_txn_line_number: str | None
    cpq_unit_price: Decimal | None
    cpq_charges: list[dict[str, str]] | None
    cpq_sync_info: dict[str, str | None] | None

    def __init__(
        self,
        *,
        variant_id: int,
        variant_external_id: str,
        offer_price_id: int,
        offer_price_external_id: str,
        quantity: int,
        variant_name: str = "",
        variant_description: str | None = None,
        classification_external_id: str | None = None,
        custom_fields: dict[str, Any] | None = None,
        external_id: str | None = None,
    ) -> None:
        self.id = None
        self.external_id = external_id
        self.variant_id = variant_id
        self.variant_external_id = variant_external_id
        self.offer_price_id = offer_price_id
        self.offer_price_external_id = offer_price_external_id
        self.quantity = quantity
        self.net_unit_price = ZERO
        self.gross_unit_price = ZERO
        self.tax_rate = ZERO
        self.tax_amount = ZERO
        self.total_net = ZERO
        self.total_gross = ZERO
        self.variant_name = variant_name
        self.variant_description = variant_description
        self.classification_external_id = classification_external_id
        self.custom_fields = dict(custom_fields or {})
        self.cpq_txn_line_number = None
        self.cpq_unit_price = None
        self.cpq_charges = None
        self.cpq_sync_info = None

    def set_amounts(
        self,
        *,
        net_unit_price: Decimal,
        gross_unit_price: Decimal,
        tax_rate: Decimal,
        currency: str,
        unit_tax: Decimal | None = None,
    ) -> None:
        """Price the line at its current quantity. Tax is a percentage of the net total, or,
        when the pricing system quoted the tax of one unit, that times the quantity."""
        total_net, tax_amount, total_gross = line_amounts(
            net_unit_price, self.quantity, currency, tax_rate=tax_rate, unit_tax=unit_tax
        )
        _assign(
            self,
            net_unit_price=net_unit_price,
            gross_unit_price=gross_unit_price,
            tax_rate=tax_rate,
            total_net=total_net,
            tax_amount=tax_amount,
            total_gross=total_gross,
        )

    def describe(self, offer_price: OfferPrice) -> None:
        """Copy the variant's current name, description and classification onto the line."""
        _assign(
            self,
            variant_name=offer_price.variant_name,
            variant_description=offer_price.variant_description,
            classification_external_id=offer_price.classification_external_id,
        )


def _assign(target: object, **values: Any) -> None:
    # Only what differs: an unchanged value then costs no attribute event and no column in
    # the UPDATE (Decimal("1.50") == Decimal("1.5000"), so a reread price counts as equal).
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)


class LogisticOrder:
    id: int | None
    reference: str
    external_id: str | None
    supplier_id: int
    supplier_external_id: str
    status: LogisticOrderStatus
    shipping_address: dict[str, Any] | None
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    lines: list[OrderLine]
    created_at: datetime
    updated_at: datetime

    def __init__(
        self,
        *,
        reference: str,
        supplier_id: int,
        supplier_external_id: str,
        now: datetime,
        shipping_address: dict[str, Any] | None = None,
        status: LogisticOrderStatus = LogisticOrderStatus.DRAFT_ORDER,
    ) -> None:
        self.id = None
        self.created_at = now
        self.updated_at = now
        self.reference = reference
        self.external_id = None
        self.supplier_id = supplier_id
        self.supplier_external_id = supplier_external_id
        self.status = status
        self.shipping_address = shipping_address
        self.total_net = ZERO
        self.total_tax = ZERO
        self.total_gross = ZERO
        self.lines = []

    def recompute_totals(self, now: datetime) -> None:
        before = (self.total_net, self.total_tax)
        self.total_net = sum((ln.total_net for ln in self.lines), ZERO)
        self.total_tax = sum((ln.tax_amount for ln in self.lines), ZERO)
        self.total_gross = self.total_net + self.total_tax
        if (self.total_net, self.total_tax) != before:
            self.updated_at = now


class CommercialOrder:
    id: int | None
    reference: str
    external_id: str | None
    account_id: int
    customer_user_id: int
    store_id: int
    store_view_id: int | None
    is_validated: bool
    validated_at: datetime | None
    checkout_type: CheckoutType
    source_type: SourceType | None
    source_id: str | None
    is_full: bool
    currency: str
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    product_count: int
    line_count: int
    custom_fields: dict[str, Any]
    version: int
    cpq_transaction_id: str | None
    cpq_sync_status: str | None
    cpq_last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime
    logistic_orders: list[LogisticOrder]

    def __init__(
        self,
        *,
        reference: str,
        account_id: int,
        customer_user_id: int,
        store_id: int,
        store_view_id: int | None,
        currency: str,
        now: datetime,
        checkout_type: CheckoutType = CheckoutType.ORDER_BASED,
        source_type: SourceType | None = None,
        source_id: str | None = None,
        is_full: bool = False,
        custom_fields: dict[str, Any] | None = None,
        external_id: str | None = None,
    ) -> None:
        self.id = None
        self.reference = reference
        self.external_id = external_id
        self.account_id = account_id
        self.customer_user_id = customer_user_id
        self.store_id = store_id
        self.store_view_id = store_view_id
        self.is_validated = False
        self.validated_at = None
        self.checkout_type = checkout_type
        self.source_type = source_type
        self.source_id = source_id
        self.is_full = is_full
        self.currency = currency
        self.total_net = ZERO
        self.total_tax = ZERO
        self.total_gross = ZERO
        self.product_count = 0
        self.line_count = 0
        self.custom_fields = dict(custom_fields or {})
        self.version = 1
        self.cpq_transaction_id = None
        self.cpq_sync_status = None
        self.cpq_last_synced_at = None
        self.created_at = now
        self.updated_at = now
        self.logistic_orders = []

    @property
    def lines(self) -> list[OrderLine]:
        return [ln for lo in self.logistic_orders for ln in lo.lines]

    @property
    def is_editable(self) -> bool:
        """A draft: not placed and every logistic order `DRAFT_ORDER` (SPEC §1). A logistic
        order on hold freezes the order without placing it."""
        return not self.is_validated and all(
            lo.status is LogisticOrderStatus.DRAFT_ORDER for lo in self.logistic_orders
        )

    def logistic_order_for(self, supplier_id: int) -> LogisticOrder | None:
        return next((lo for lo in self.logistic_orders if lo.supplier_id == supplier_id), None)

    def add_logistic_order(
        self,
        supplier_id: int,
        supplier_external_id: str,
        shipping_address: dict[str, Any] | None,
        now: datetime,
    ) -> LogisticOrder:
        taken = {lo.reference for lo in self.logistic_orders}
        n = len(self.logistic_orders) + 1
        while f"{self.reference}-{n}" in taken:
            n += 1
        lo = LogisticOrder(
            reference=f"{self.reference}-{n}",
            supplier_id=supplier_id,
            supplier_external_id=supplier_external_id,
            shipping_address=shipping_address,
            now=now,
        )
        self.logistic_orders.append(lo)
        return lo

    def remove_line(self, line: OrderLine) -> None:
        for lo in self.logistic_orders:
            if line in lo.lines:
                lo.lines.remove(line)
                return

    def drop_empty_logistic_orders(self) -> None:
        self.logistic_orders[:] = [lo for lo in self.logistic_orders if lo.lines]

    def place(self, now: datetime) -> None:
        """Validate the order: every logistic order becomes ORDER_CREATED, the order
        immutable."""
        for lo in self.logistic_orders:
            lo.status = LogisticOrderStatus.ORDER_CREATED
            lo.updated_at = now
        self.is_validated = True
        self.validated_at = now
        self.updated_at = now

    def record_cpq_push(self, result: CpqResult, now: datetime, *, outdated: bool) -> None:
        """Remember what CPQ answered: its transaction, and per line its line number, unit
        price, charges and sync status. The order's own prices stay as they are. `outdated`:
        the order changed while the push was in flight, so CPQ holds an older version."""
        self.cpq_transaction_id = result.transaction_id
        self.cpq_sync_status = "OUTDATED" if outdated else "SYNCED"
        self.cpq_last_synced_at = now
        self.updated_at = now
        for line in self.lines:
            pushed = result.lines.get(str(line.id))
            if pushed is None:
                continue  # added while the push was in flight
            line.cpq_txn_line_number = pushed.txn_line_number
            line.cpq_unit_price = pushed.unit_price
            line.cpq_charges = [
                {
                    "name": c.name,
                    "unitPrice": str(c.unit_price),
                    "amount": str(c.amount),
                    "priceType": c.price_type,
                }
                for c in pushed.charges
            ]
            line.cpq_sync_info = {"status": pushed.status, "errorMessage": pushed.error_message}

    def recompute_totals(self, now: datetime) -> None:
        """Totals of every logistic order and of the order; marks the order as changed.
        Refuses (422 AMOUNT_TOO_LARGE) an order whose gross total passes MAX_AMOUNT: every
        other amount of the order is smaller, so they all fit their columns."""
        for lo in self.logistic_orders:
            lo.recompute_totals(now)
        lines = self.lines
        self.total_net = sum((lo.total_net for lo in self.logistic_orders), ZERO)
        self.total_tax = sum((lo.total_tax for lo in self.logistic_orders), ZERO)
        self.total_gross = self.total_net + self.total_tax
        if self.total_gross > MAX_AMOUNT:
            raise Unprocessable(
                ErrorCode.AMOUNT_TOO_LARGE,
                f"The order's total would be {self.total_gross} {self.currency}; at most "
                f"{MAX_AMOUNT} per order.",
            )
        self.line_count = len(lines)
        self.product_count = sum(ln.quantity for ln in lines)
        self.updated_at = now
