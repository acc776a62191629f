"""Front-office use cases on commercial orders: read, create, delete lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.catalog import BuyerContext, CustomFieldEntity
from ordersync.domain.errors import (
    DuplicateValue,
    ErrorCode,
    FieldError,
    NotFound,
    Unprocessable,
)
from ordersync.domain.history import Source
from ordersync.domain.orders import CommercialOrder, OrderIdType, OrderRecord, SourceType
from ordersync.domain.pricing import PricingGateways
from ordersync.domain.tenant import TenantSettings
from ordersync.rules.eligibility import operation_refusal
from ordersync.rules.line_updates import (
    Catalog,
    LineType,
    LineUpdate,
    apply_line_updates,
    delete_lines,
    line_update_pricing_needs,
)
from ordersync.rules.pricing import PriceSource, standard_quote
from ordersync.services.access import ensure_can_write
from ordersync.services.order_context import (
    CustomFieldBook,
    CustomFieldIdType,
    buyer_context,
    load_catalog,
    load_operation_catalog,
    utcnow,
)
from ordersync.services.order_writes import (
    UowFactory,
    ask_pricing_system,
    editable_draft,
    new_reference,
    with_retries,
)
from ordersync.services.pricing_requests import price_request

CREATE_ATTEMPTS = 3  # a random reference taken between the check and the commit


def get_order(
    uow: UnitOfWork, caller: Caller, order_id: str, id_type: OrderIdType = OrderIdType.REFERENCE
) -> CommercialOrder:
    """One of the caller's orders (account and store scoped); anybody else's is a 404."""
    with uow:
        order = uow.orders.get(
            order_id, id_type=id_type, account_id=caller.account_id, store_id=caller.store_id
        )
        if order is None:
            raise NotFound(ErrorCode.ORDER_NOT_FOUND, f"No commercial order {order_id}.")
        return order


def read_order(
    uow: UnitOfWork, caller: Caller, order_id: str, id_type: OrderIdType = OrderIdType.REFERENCE
) -> OrderRecord:
    """One of the caller's orders as stored, for its answer (account and store scoped;
    anybody else's is a 404): one statement."""
    with uow:
        record = uow.orders.record(
            order_id, id_type=id_type, account_id=caller.account_id, store_id=caller.store_id
        )
    if record is None:
        raise NotFound(ErrorCode.ORDER_NOT_FOUND, f"No commercial order {order_id}.")
    return record


@dataclass(frozen=True)
class NewOrder:
    source_type: SourceType | None = None
    source_id: str | None = None
    is_full: bool = False
    custom_fields: dict[str, Any] | None = None
    custom_field_id_type: str = CustomFieldIdType.EXTERNAL_ID
    external_id: str | None = None


def create_order(
    uow_factory: UowFactory, caller: Caller, new: NewOrder, pricing: PricingGateways
) -> CommercialOrder:
    """A draft order-based-checkout order; a FULL operation order starts with every
    eligible operation line at its recommended quantity (priced with one real-time call
    first, outside any transaction, when pricing is real-time)."""
    ensure_can_write(caller)
    prices: PriceSource = standard_quote
    request = None
    if new.source_type is SourceType.OPERATION and new.is_full:
        with uow_factory() as uow:
            settings = uow.catalog.settings()
            if settings.real_time_pricing:
                order, fill = _draft(uow, caller, new, settings)
                needs = (
                    line_update_pricing_needs(
                        order, fill.updates, LineType.VARIANT, fill.catalog, fill.ctx
                    )
                    if fill
                    else []
                )
                request = price_request(uow, order, fill.ctx, needs) if fill else None
        if settings.real_time_pricing:
            prices = ask_pricing_system(pricing, settings, request)
    for attempt in range(CREATE_ATTEMPTS):
        try:
            with uow_factory() as uow:
                settings = uow.catalog.settings()
                order, fill = _draft(uow, caller, new, settings)
                if fill:
                    apply_line_updates(
                        order, fill.updates, LineType.VARIANT, fill.catalog, fill.ctx, prices
                    )
                uow.orders.add(order)
                uow.commit(Source.API)
                return order
        except DuplicateValue:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Fill:
    """The line updates that fill a FULL operation order, with what the rules need."""

    updates: list[LineUpdate]
    catalog: Catalog
    ctx: BuyerContext


def _draft(
    uow: UnitOfWork, caller: Caller, new: NewOrder, settings: TenantSettings
) -> tuple[CommercialOrder, _Fill | None]:
    """The new order in memory, and for a FULL operation order the line updates that fill
    it, with what the rules need to apply them."""
    assert caller.account_id is not None and caller.store_id is not None
    book = CustomFieldBook(uow.catalog.custom_fields())
    values = book.check(
        new.custom_fields or {}, new.custom_field_id_type, CustomFieldEntity.ORDER, "customFields"
    )
    reference = new_reference()
    while uow.orders.reference_taken(reference):
        reference = new_reference()
    now = utcnow()
    order = CommercialOrder(
        reference=reference,
        account_id=caller.account_id,
        customer_user_id=caller.user_id,
        store_id=caller.store_id,
        store_view_id=caller.store_view_id or uow.access.first_store_view(caller.store_id),
        currency=settings.currency,
        now=now,
        source_type=new.source_type,
        source_id=new.source_id,
        is_full=new.is_full,
        custom_fields=values,
        external_id=new.external_id,
    )
    if new.source_type is not SourceType.OPERATION:
        return order, None
    return order, _operation_lines(uow, caller, order, settings, now)


def _operation_lines(
    uow: UnitOfWork,
    caller: Caller,
    order: CommercialOrder,
    settings: TenantSettings,
    now: datetime,
) -> _Fill | None:
    if not order.source_id:
        raise Unprocessable(
            ErrorCode.INVALID_REQUEST,
            "sourceId is required with OPERATION.",
            [FieldError(ErrorCode.INVALID_REQUEST, "sourceId", "Required.")],
        )
    base = load_operation_catalog(uow, order, settings)
    operation = base.operation
    if operation is None:
        raise Unprocessable(ErrorCode.OPERATION_NOT_FOUND, f"No operation {order.source_id}.")
    account = uow.catalog.account(order.account_id)
    refusal = operation_refusal(operation, BuyerContext(account, order.store_id, None, now))
    if refusal:
        raise Unprocessable(ErrorCode.OPERATION_NOT_AVAILABLE, refusal)
    if not order.is_full:
        return None
    updates = [
        LineUpdate(ln.variant_external_id, ln.recommended_quantity or ln.min_quantity or 1)
        for ln in operation.lines
    ]
    catalog, _ = load_catalog(uow, base, variant_external_ids=[u.id for u in updates])
    ctx = buyer_context(uow, caller, order, catalog.offer_prices.values(), now, settings)
    return _Fill(updates, catalog, ctx)


def remove_lines(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    offer_price_external_ids: Sequence[str],
    *,
    if_match: frozenset[int] | None = None,
) -> int:
    """Delete lines by offer price external id; an empty logistic order goes with its last
    line. Returns the new version."""

    def work() -> int:
        with uow_factory() as uow:
            order = editable_draft(uow, caller, reference, if_match)
            delete_lines(order, offer_price_external_ids, utcnow())
            uow.commit(Source.API)
            return order.version

    return with_retries(if_match, work)
