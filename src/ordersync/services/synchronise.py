"""Synchronise (ORDER-223) and place: both re-check every line of the caller's draft."""

from __future__ import annotations

from dataclasses import dataclass

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.catalog import BuyerContext, CustomFieldEntity, OfferPrice
from ordersync.domain.errors import ErrorCode, FieldError, Unprocessable
from ordersync.domain.history import Source
from ordersync.domain.orders import CommercialOrder
from ordersync.domain.pricing import PriceRequest, PricingGateways
from ordersync.domain.tenant import TenantSettings
from ordersync.rules.custom_fields import missing_required
from ordersync.rules.line_updates import Catalog
from ordersync.rules.pricing import PriceSource
from ordersync.rules.synchronise import (
    SyncPlan,
    SyncPreview,
    apply_plan,
    plan_synchronisation,
    preview_plan,
    sync_pricing_needs,
)
from ordersync.services.order_context import (
    CustomFieldBook,
    buyer_context,
    load_catalog,
    load_operation_catalog,
    utcnow,
)
from ordersync.services.order_writes import Ask, UowFactory, WriteResult, priced_write
from ordersync.services.pricing_requests import price_request


@dataclass(frozen=True)
class _Current:
    """What the rules check an order's lines against, loaded in a constant number of
    statements."""

    catalog: Catalog
    offer_prices_by_id: dict[int, OfferPrice]
    book: CustomFieldBook
    ctx: BuyerContext


def _current(
    uow: UnitOfWork, caller: Caller, order: CommercialOrder, settings: TenantSettings
) -> _Current:
    base = load_operation_catalog(uow, order, settings)
    catalog, by_id = load_catalog(uow, base, ids={ln.offer_price_id for ln in order.lines})
    book = CustomFieldBook(uow.catalog.custom_fields())
    ctx = buyer_context(uow, caller, order, by_id.values(), utcnow(), settings)
    return _Current(catalog, by_id, book, ctx)


def _ask(caller: Caller) -> Ask:
    def ask(uow: UnitOfWork, order: CommercialOrder, settings: TenantSettings) -> PriceRequest:
        current = _current(uow, caller, order, settings)
        needs = sync_pricing_needs(order, current.catalog, current.offer_prices_by_id, current.ctx)
        return price_request(uow, order, current.ctx, needs)

    return ask


def _plan(
    uow: UnitOfWork,
    caller: Caller,
    order: CommercialOrder,
    settings: TenantSettings,
    prices: PriceSource,
) -> tuple[SyncPlan, _Current]:
    current = _current(uow, caller, order, settings)
    plan = plan_synchronisation(
        order,
        current.catalog,
        current.offer_prices_by_id,
        current.book.keyed(),
        current.ctx,
        prices,
    )
    return plan, current


def synchronise(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    pricing: PricingGateways,
    *,
    if_match: frozenset[int] | None = None,
) -> WriteResult:
    """ORDER-223: reprice and re-check every line, from stored data (STANDARD) or one
    real-time pricing call (RTP). Non-blocking changes are applied; any blocking warning,
    a pricing failure included, leaves the order untouched."""

    def apply(
        uow: UnitOfWork, order: CommercialOrder, settings: TenantSettings, prices: PriceSource
    ) -> WriteResult:
        plan, current = _plan(uow, caller, order, settings, prices)
        changed = apply_plan(order, plan, current.ctx)
        if changed:
            uow.commit(Source.SYNC)
        return WriteResult(plan.reported, order.version, changed)

    return priced_write(uow_factory, caller, reference, if_match, pricing, _ask(caller), apply)


def preview_synchronisation(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    pricing: PricingGateways,
    *,
    if_match: frozenset[int] | None = None,
) -> SyncPreview:
    """The synchronisation run whole (one pricing call in RTP, like the real one) and
    reported instead of applied: nothing written, no version bumped. Run right after on
    unchanged data, the real call applies exactly this."""

    def preview(
        uow: UnitOfWork, order: CommercialOrder, settings: TenantSettings, prices: PriceSource
    ) -> SyncPreview:
        plan, _ = _plan(uow, caller, order, settings, prices)
        return preview_plan(order, plan)

    return priced_write(uow_factory, caller, reference, if_match, pricing, _ask(caller), preview)


def place_order(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    pricing: PricingGateways,
    *,
    if_match: frozenset[int] | None = None,
) -> CommercialOrder:
    """Validate a draft: every line must still be exactly right (else 422 listing what a
    synchronisation would change), required custom fields set; then every logistic order
    becomes ORDER_CREATED and the order immutable."""

    def apply(
        uow: UnitOfWork, order: CommercialOrder, settings: TenantSettings, prices: PriceSource
    ) -> CommercialOrder:
        if not order.lines:
            raise Unprocessable(ErrorCode.ORDER_EMPTY, "An order needs at least one line.")
        plan, current = _plan(uow, caller, order, settings, prices)
        if plan.warnings:
            raise Unprocessable(
                ErrorCode.ORDER_NOT_IN_SYNC,
                "The order no longer matches current offers; synchronise it first.",
                [FieldError(w.code, w.id, w.detail) for w in plan.warnings],
            )
        _check_required_fields(current.book, order)
        order.place(current.ctx.now)
        uow.commit(Source.API)
        return order

    return priced_write(uow_factory, caller, reference, if_match, pricing, _ask(caller), apply)


def _check_required_fields(book: CustomFieldBook, order: CommercialOrder) -> None:
    definitions = book.keyed()
    errors = [
        FieldError(ErrorCode.CUSTOM_FIELD_REQUIRED, f"customFields.{key}", f"{key} is required.")
        for key in missing_required(order.custom_fields, definitions, CustomFieldEntity.ORDER)
    ]
    for line in order.lines:
        errors += [
            FieldError(
                ErrorCode.CUSTOM_FIELD_REQUIRED,
                line.offer_price_external_id,
                f"Line custom field {key} is required.",
            )
            for key in missing_required(
                line.custom_fields, definitions, CustomFieldEntity.ORDER_LINE
            )
        ]
    if errors:
        raise Unprocessable(
            ErrorCode.CUSTOM_FIELD_REQUIRED, "Required custom fields are missing.", errors
        )
