"""Update lines (ORDER-150) of the caller's draft."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.catalog import BuyerContext, CustomFieldEntity
from ordersync.domain.errors import BadGateway, ErrorCode
from ordersync.domain.history import Source
from ordersync.domain.orders import CommercialOrder
from ordersync.domain.pricing import PriceRequest, PricingGateways, PricingUnavailable
from ordersync.domain.tenant import TenantSettings
from ordersync.rules.line_updates import (
    Catalog,
    LineType,
    LineUpdate,
    UpdateAction,
    apply_line_updates,
    check_request,
    line_update_pricing_needs,
)
from ordersync.rules.pricing import PriceSource
from ordersync.services.order_context import (
    CustomFieldBook,
    buyer_context,
    load_catalog,
    load_operation_catalog,
    utcnow,
)
from ordersync.services.order_writes import UowFactory, WriteResult, priced_write
from ordersync.services.pricing_requests import price_request


@dataclass(frozen=True)
class RawLineUpdate:
    """A line update as the client sent it: custom fields keyed per customFieldIdType."""

    id: str
    quantity: int
    action: UpdateAction = UpdateAction.REPLACE_QUANTITY
    custom_fields: dict[str, Any] | None = None
    metadata: Mapping[str, Any] | None = None  # forwarded to real-time pricing, never stored


@dataclass(frozen=True)
class LineUpdateRequest:
    line_type: LineType
    custom_field_id_type: str
    lines: Sequence[RawLineUpdate]
    metadata: Mapping[str, Any] | None = None  # forwarded to real-time pricing, never stored


def update_lines(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    request: LineUpdateRequest,
    pricing: PricingGateways,
    *,
    if_match: frozenset[int] | None = None,
) -> WriteResult:
    """ORDER-150: apply each eligible line update, skip the others with a warning; 422 and
    nothing changed when none is eligible. In real-time pricing the lines it keeps or adds
    are priced with one call; if that fails, 502 PRICING_UNAVAILABLE and nothing changes."""
    check_request([LineUpdate(raw.id, raw.quantity, raw.action) for raw in request.lines])

    def prepare(
        uow: UnitOfWork, order: CommercialOrder, settings: TenantSettings
    ) -> tuple[list[LineUpdate], Catalog, BuyerContext]:
        base = load_operation_catalog(uow, order, settings)
        book = CustomFieldBook(uow.catalog.custom_fields())
        updates = [
            LineUpdate(
                raw.id,
                raw.quantity,
                raw.action,
                None
                if raw.custom_fields is None
                else book.check(
                    raw.custom_fields,
                    request.custom_field_id_type,
                    CustomFieldEntity.ORDER_LINE,
                    f"updateOrderCommercialLines[{i}].customFields",
                ),
            )
            for i, raw in enumerate(request.lines)
        ]
        ids = [u.id for u in updates]
        if request.line_type is LineType.VARIANT:
            catalog, _ = load_catalog(uow, base, variant_external_ids=ids)
        else:
            catalog, _ = load_catalog(uow, base, external_ids=ids)
        ctx = buyer_context(uow, caller, order, catalog.offer_prices.values(), utcnow(), settings)
        return updates, catalog, ctx

    def ask(uow: UnitOfWork, order: CommercialOrder, settings: TenantSettings) -> PriceRequest:
        updates, catalog, ctx = prepare(uow, order, settings)
        needs = line_update_pricing_needs(order, updates, request.line_type, catalog, ctx)
        return price_request(
            uow,
            order,
            ctx,
            needs,
            request.metadata,
            {raw.id: raw.metadata for raw in request.lines},
        )

    def apply(
        uow: UnitOfWork, order: CommercialOrder, settings: TenantSettings, prices: PriceSource
    ) -> WriteResult:
        updates, catalog, ctx = prepare(uow, order, settings)
        try:
            warnings = apply_line_updates(order, updates, request.line_type, catalog, ctx, prices)
        except PricingUnavailable as exc:
            raise BadGateway(
                ErrorCode.PRICING_UNAVAILABLE,
                f"The pricing system could not price the lines: {exc}",
            ) from None
        uow.commit(Source.API)
        return WriteResult(warnings, order.version)

    return priced_write(uow_factory, caller, reference, if_match, pricing, ask, apply)
