"""Front-office use cases on commercial orders: create, read, update lines, synchronise,
place. Each opens one unit of work and commits once."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm.exc import StaleDataError

from ordersync.adapters.db.catalog_repository import TenantSettings
from ordersync.adapters.db.order_repository import OrderIdType
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.catalog import BuyerContext, CustomFieldEntity, OfferPrice
from ordersync.domain.errors import (
    Conflict,
    ErrorCode,
    FieldError,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)
from ordersync.domain.orders import CheckoutType, CommercialOrder, SourceType
from ordersync.domain.warnings import OrderWarning
from ordersync.rules.custom_fields import missing_required
from ordersync.rules.eligibility import operation_refusal
from ordersync.rules.line_updates import (
    LineType,
    LineUpdate,
    UpdateAction,
    apply_line_updates,
    check_request,
    delete_lines,
)
from ordersync.rules.synchronise import (
    PriceSource,
    PricingUnavailable,
    Quote,
    SyncPlan,
    apply_plan,
    plan_synchronisation,
    standard_quote,
)
from ordersync.services.access import ensure_can_write
from ordersync.services.order_context import (
    CustomFieldBook,
    CustomFieldIdType,
    buyer_context,
    load_catalog,
    load_operation_catalog,
    utcnow,
)

UowFactory = Callable[[], UnitOfWork]
T = TypeVar("T")


@dataclass(frozen=True)
class RawLineUpdate:
    """A line update as the client sent it: custom fields keyed per customFieldIdType."""

    id: str
    quantity: int
    action: UpdateAction = UpdateAction.REPLACE_QUANTITY
    custom_fields: dict[str, Any] | None = None


@dataclass(frozen=True)
class WriteResult:
    warnings: list[OrderWarning]
    version: int
    changed: bool = True


def new_reference() -> str:
    """A public reference shaped like the platform's: 260-211-8089583."""
    n = secrets.randbelow(10**13)
    digits = f"{n:013d}"
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def with_retries(attempts: int, if_match: frozenset[int] | None, work: Callable[[], T]) -> T:
    """Re-run a write that lost an optimistic-lock race; with If-Match the client asked for
    that exact version, so a lost race is a 412 instead."""
    for attempt in range(attempts):
        try:
            return work()
        except StaleDataError:
            if if_match is not None:
                raise PreconditionFailed(
                    ErrorCode.VERSION_MISMATCH, "The order changed since that version."
                ) from None
            if attempt == attempts - 1:
                break
    raise Conflict(
        ErrorCode.CONCURRENT_UPDATE, "The order is being changed by another request; retry."
    )


def check_version(order: CommercialOrder, if_match: frozenset[int] | None) -> None:
    """If-Match names the versions the client wrote against (None: any)."""
    if if_match is not None and order.version not in if_match:
        asked = ", ".join(str(v) for v in sorted(if_match)) or "no version of this order"
        raise PreconditionFailed(
            ErrorCode.VERSION_MISMATCH,
            f"If-Match asks for {asked}; the order is at version {order.version}.",
        )


def _editable_draft(
    uow: UnitOfWork, caller: Caller, reference: str, if_match: frozenset[int] | None
) -> CommercialOrder:
    ensure_can_write(caller)
    order = uow.orders.get(
        reference, account_id=caller.account_id, store_id=caller.store_id, for_update=True
    )
    if order is None:
        raise NotFound(ErrorCode.ORDER_NOT_FOUND, f"No commercial order {reference}.")
    check_version(order, if_match)
    if not order.is_editable:
        raise Conflict(
            ErrorCode.ORDER_NOT_EDITABLE,
            f"Order {reference} is no longer a draft (placed, or a logistic order moved on).",
        )
    if order.checkout_type is not CheckoutType.ORDER_BASED:
        raise Conflict(
            ErrorCode.ORDER_NOT_ORDER_BASED, f"Order {reference} comes from a cart-based checkout."
        )
    return order


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


@dataclass(frozen=True)
class NewOrder:
    source_type: SourceType | None = None
    source_id: str | None = None
    is_full: bool = False
    custom_fields: dict[str, Any] | None = None
    custom_field_id_type: str = CustomFieldIdType.EXTERNAL_ID
    external_id: str | None = None


def create_order(uow: UnitOfWork, caller: Caller, new: NewOrder) -> CommercialOrder:
    """A draft order-based-checkout order; a FULL operation order starts with every
    eligible operation line at its recommended quantity."""
    assert caller.account_id is not None and caller.store_id is not None
    ensure_can_write(caller)
    with uow:
        settings = uow.catalog.settings()
        book = CustomFieldBook(uow.catalog.custom_fields())
        values = book.check(
            new.custom_fields or {},
            new.custom_field_id_type,
            CustomFieldEntity.ORDER,
            "customFields",
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
        if new.source_type is SourceType.OPERATION:
            _start_operation_order(uow, caller, order, settings, now)
        uow.orders.add(order)
        uow.commit()
        return order


def _start_operation_order(
    uow: UnitOfWork,
    caller: Caller,
    order: CommercialOrder,
    settings: TenantSettings,
    now: datetime,
) -> None:
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
        return
    updates = [
        LineUpdate(ln.variant_external_id, ln.recommended_quantity or ln.min_quantity or 1)
        for ln in operation.lines
    ]
    catalog, _ = load_catalog(uow, base, variant_external_ids=[u.id for u in updates])
    ctx = buyer_context(uow, caller, order, catalog.offer_prices.values(), now)
    apply_line_updates(order, updates, LineType.VARIANT, catalog, ctx)


@dataclass(frozen=True)
class LineUpdateRequest:
    line_type: LineType
    custom_field_id_type: str
    lines: Sequence[RawLineUpdate]


def update_lines(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    request: LineUpdateRequest,
    *,
    if_match: frozenset[int] | None = None,
    attempts: int = 8,
) -> WriteResult:
    """ORDER-150: apply each eligible line update, skip the others with a warning; 422 and
    nothing changed when none is eligible."""
    check_request([LineUpdate(raw.id, raw.quantity, raw.action) for raw in request.lines])

    def work() -> WriteResult:
        with uow_factory() as uow:
            order = _editable_draft(uow, caller, reference, if_match)
            base = load_operation_catalog(uow, order, uow.catalog.settings())
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
            ctx = buyer_context(uow, caller, order, catalog.offer_prices.values(), utcnow())
            warnings = apply_line_updates(order, updates, request.line_type, catalog, ctx)
            uow.commit()
            return WriteResult(warnings, order.version)

    return with_retries(attempts, if_match, work)


def remove_lines(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    offer_price_external_ids: Sequence[str],
    *,
    if_match: frozenset[int] | None = None,
    attempts: int = 8,
) -> int:
    """Delete lines by offer price external id; an empty logistic order goes with its last
    line. Returns the new version."""

    def work() -> int:
        with uow_factory() as uow:
            order = _editable_draft(uow, caller, reference, if_match)
            delete_lines(order, offer_price_external_ids, utcnow())
            uow.commit()
            return order.version

    return with_retries(attempts, if_match, work)


def synchronise(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    *,
    if_match: frozenset[int] | None = None,
    attempts: int = 8,
) -> WriteResult:
    """ORDER-223 in STANDARD mode: reprice and re-check every line from persisted data.
    Non-blocking changes are applied; any blocking warning leaves the order untouched."""

    def work() -> WriteResult:
        with uow_factory() as uow:
            order = _editable_draft(uow, caller, reference, if_match)
            plan, ctx = _plan(uow, caller, order)
            changed = apply_plan(order, plan, ctx)
            if changed:
                uow.commit()
            return WriteResult(plan.reported, order.version, changed)

    return with_retries(attempts, if_match, work)


def _plan(
    uow: UnitOfWork, caller: Caller, order: CommercialOrder
) -> tuple[SyncPlan, BuyerContext]:
    settings = uow.catalog.settings()
    base = load_operation_catalog(uow, order, settings)
    catalog, by_id = load_catalog(uow, base, ids={ln.offer_price_id for ln in order.lines})
    book = CustomFieldBook(uow.catalog.custom_fields())
    ctx = buyer_context(uow, caller, order, by_id.values(), utcnow())
    plan = plan_synchronisation(
        order, catalog, by_id, book.keyed(), ctx, price_source_for(settings)
    )
    return plan, ctx


def price_source_for(settings: TenantSettings) -> PriceSource:
    """STANDARD prices from the persisted tiers. RTP needs the real-time pricing gateway,
    which is not wired yet: until it is, every line is blocked as PRICING_UNAVAILABLE rather
    than silently priced from persisted data."""
    if settings.pricing_mode == "STANDARD":
        return standard_quote

    def unavailable(_offer_price: OfferPrice, _quantity: int) -> Quote:
        raise PricingUnavailable(
            "Real-time pricing is configured but no pricing system is connected."
        )

    return unavailable


def place_order(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    *,
    if_match: frozenset[int] | None = None,
    attempts: int = 8,
) -> CommercialOrder:
    """Validate a draft: every line must still be exactly right (else 422 listing what a
    synchronisation would change), required custom fields set; then every logistic order
    becomes ORDER_CREATED and the order immutable."""

    def work() -> CommercialOrder:
        with uow_factory() as uow:
            order = _editable_draft(uow, caller, reference, if_match)
            if not order.lines:
                raise Unprocessable(ErrorCode.ORDER_EMPTY, "An order needs at least one line.")
            plan, ctx = _plan(uow, caller, order)
            if plan.warnings:
                raise Unprocessable(
                    ErrorCode.ORDER_NOT_IN_SYNC,
                    "The order no longer matches current offers; synchronise it first.",
                    [FieldError(w.code, w.id, w.detail) for w in plan.warnings],
                )
            _check_required_fields(uow, order)
            order.place(ctx.now)
            uow.commit()
            return order

    return with_retries(attempts, if_match, work)


def _check_required_fields(uow: UnitOfWork, order: CommercialOrder) -> None:
    definitions = CustomFieldBook(uow.catalog.custom_fields()).keyed()
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
