"""Small factories for domain objects: sensible defaults, override what the test is about.

Everything is built in memory; no database, no HTTP.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ordersync.domain.catalog import (
    Account,
    BuyerContext,
    CustomField,
    CustomFieldEntity,
    CustomFieldType,
    OfferPrice,
    Operation,
    OperationLine,
    OperationStatus,
    OperationType,
    PriceTier,
    Status,
)
from ordersync.domain.orders import CommercialOrder, OrderLine
from ordersync.rules.line_updates import Catalog, price_line

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
REFERENCE = "260-211-8089583"
ADDRESS: dict[str, str | None] = {
    "externalId": "ADDR-1",
    "fullName": "Jane Doe",
    "streetName": "1 rue de la Paix",
    "city": "Paris",
    "zipCode": "75002",
    "country": "FR",
}

_ids = itertools.count(1)


def tier(min_quantity: int = 1, net: str = "10.00", gross: str | None = None) -> PriceTier:
    """A price tier; gross defaults to net + 20 %."""
    net_price = Decimal(net)
    gross_price = Decimal(gross) if gross is not None else net_price * Decimal("1.2")
    return PriceTier(min_quantity, net_price, gross_price)


def offer_price(**overrides: Any) -> OfferPrice:
    """An active, public, unlimited-stock EUR offer price of supplier SUP-A, one tier at 10.00.

    `net="7.50"` is a shortcut for a single tier at that price.
    """
    n = next(_ids)
    net = overrides.pop("net", None)
    fields: dict[str, Any] = {
        "id": n,
        "external_id": f"OP-{n}",
        "offer_id": n,
        "offer_status": Status.ACTIVE,
        "supplier_id": 1,
        "supplier_external_id": "SUP-A",
        "supplier_status": Status.ACTIVE,
        "variant_id": 1000 + n,
        "variant_external_id": f"V-{n}",
        "variant_name": f"Variant {n}",
        "variant_description": None,
        "classification_external_id": "CLS-1",
        "currency": "EUR",
        "tax_rate": Decimal("20"),
        "tiers": (tier(net=net) if net is not None else tier(),),
    }
    fields.update(overrides)
    return OfferPrice(**fields)


def account(**overrides: Any) -> Account:
    fields: dict[str, Any] = {
        "id": 7,
        "external_id": "ACC-1",
        "name": "Buyer Co",
        "status": Status.ACTIVE,
        "groups": frozenset({"GOLD"}),
        "shipping_addresses": (ADDRESS,),
    }
    fields.update(overrides)
    return Account(**fields)


def context(*visible: OfferPrice, **overrides: Any) -> BuyerContext:
    """A buyer context at NOW in which the variants of `visible` are visible."""
    fields: dict[str, Any] = {
        "account": account(),
        "store_id": 1,
        "store_view_id": 1,
        "now": NOW,
        "visible_variant_ids": frozenset(op.variant_id for op in visible),
    }
    fields.update(overrides)
    return BuyerContext(**fields)


def operation(**overrides: Any) -> Operation:
    """An active public operation, open from a month before NOW to a month after."""
    fields: dict[str, Any] = {
        "id": 1,
        "external_id": "OPE-1",
        "status": OperationStatus.ACTIVE,
        "type": OperationType.PUBLIC,
        "start_date": datetime(2025, 5, 1, tzinfo=UTC),
        "end_date": datetime(2025, 7, 1, tzinfo=UTC),
    }
    fields.update(overrides)
    return Operation(**fields)


def operation_line(
    offer: OfferPrice, min_quantity: int | None = None, max_quantity: int | None = None
) -> OperationLine:
    return OperationLine(
        offer.variant_id, offer.variant_external_id, min_quantity, max_quantity, None
    )


def catalog(*offer_prices: OfferPrice, operation: Operation | None = None) -> Catalog:
    by_variant: dict[str, list[OfferPrice]] = defaultdict(list)
    for op in offer_prices:
        by_variant[op.variant_external_id].append(op)
    return Catalog({op.external_id: op for op in offer_prices}, dict(by_variant), operation)


def custom_field(external_id: str = "CF-1", **overrides: Any) -> CustomField:
    fields: dict[str, Any] = {
        "id": next(_ids),
        "external_id": external_id,
        "entity": CustomFieldEntity.ORDER_LINE,
        "type": CustomFieldType.STRING,
    }
    fields.update(overrides)
    return CustomField(**fields)


def order(**overrides: Any) -> CommercialOrder:
    """An empty EUR draft of account 7."""
    fields: dict[str, Any] = {
        "reference": REFERENCE,
        "account_id": 7,
        "customer_user_id": 1,
        "store_id": 1,
        "store_view_id": 1,
        "currency": "EUR",
        "now": NOW,
    }
    fields.update(overrides)
    return CommercialOrder(**fields)


def add_line(
    commercial_order: CommercialOrder,
    offer: OfferPrice,
    quantity: int,
    custom_fields: dict[str, Any] | None = None,
) -> OrderLine:
    """Put a line priced from `offer` on the order, as update-lines would have, and total it."""
    lo = commercial_order.logistic_order_for(offer.supplier_id)
    if lo is None:
        lo = commercial_order.add_logistic_order(
            offer.supplier_id, offer.supplier_external_id, dict(ADDRESS), NOW
        )
    line = OrderLine(
        variant_id=offer.variant_id,
        variant_external_id=offer.variant_external_id,
        offer_price_id=offer.id,
        offer_price_external_id=offer.external_id,
        quantity=quantity,
        custom_fields=custom_fields,
    )
    lo.lines.append(line)
    price_line(line, offer, commercial_order.currency)
    commercial_order.recompute_totals(NOW)
    return line


def order_state(commercial_order: CommercialOrder) -> tuple[Any, ...]:
    """Everything a user can see of an order, to compare before and after."""
    o = commercial_order
    return (
        (o.total_net, o.total_tax, o.total_gross, o.line_count, o.product_count, o.updated_at),
        dict(o.custom_fields),
        [
            (
                lo.reference,
                lo.supplier_id,
                lo.total_net,
                lo.total_tax,
                lo.total_gross,
                [
                    (
                        ln.offer_price_external_id,
                        ln.quantity,
                        ln.net_unit_price,
                        ln.gross_unit_price,
                        ln.tax_rate,
                        ln.tax_amount,
                        ln.total_net,
                        ln.total_gross,
                        ln.variant_name,
                        dict(ln.custom_fields),
                    )
                    for ln in lo.lines
                ],
            )
            for lo in o.logistic_orders
        ],
    )
