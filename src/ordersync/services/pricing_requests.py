"""Building the one real-time pricing request of a write from the lines the rules keep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.catalog import BuyerContext
from ordersync.domain.orders import CommercialOrder
from ordersync.domain.pricing import PriceRequest, PriceRequestLine
from ordersync.rules.pricing import PricingNeed


def price_request(
    uow: UnitOfWork,
    order: CommercialOrder,
    ctx: BuyerContext,
    needs: Sequence[PricingNeed],
    metadata: Mapping[str, Any] | None = None,
    line_metadata: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> PriceRequest:
    """`line_metadata` is keyed by the id the client named the line with (offer price or
    variant external id); metadata is forwarded, never stored."""
    by_client_id = line_metadata or {}
    return PriceRequest(
        order_reference=order.reference,
        account_external_id=ctx.account.external_id,
        store_external_id=uow.access.store_external_id(order.store_id),
        currency=order.currency,
        metadata=metadata,
        lines=tuple(
            PriceRequestLine(
                line_id=need.key,
                variant_external_id=need.offer_price.variant_external_id,
                offer_price_external_id=need.offer_price.external_id,
                supplier_external_id=need.offer_price.supplier_external_id,
                quantity=need.quantity,
                metadata=by_client_id.get(need.offer_price.external_id)
                or by_client_id.get(need.offer_price.variant_external_id),
            )
            for need in needs
        ),
    )
