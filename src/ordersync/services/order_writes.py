"""What every write to a commercial order shares: finding the caller's editable draft under
its lock, If-Match, retrying a lost optimistic-lock race, and the two-phase flow of a write
that needs real-time prices."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.errors import (
    Conflict,
    ErrorCode,
    NotFound,
    PreconditionFailed,
    StaleWrite,
)
from ordersync.domain.orders import CheckoutType, CommercialOrder
from ordersync.domain.pricing import PriceRequest, PricingGateways, PricingUnavailable
from ordersync.domain.tenant import TenantSettings
from ordersync.domain.warnings import OrderWarning
from ordersync.rules.pricing import PriceSource, RealTimeQuotes, standard_quote
from ordersync.services.access import ensure_can_write

UowFactory = Callable[[], UnitOfWork]
T = TypeVar("T")
ATTEMPTS = 8  # lost optimistic-lock races retried before a 409 CONCURRENT_UPDATE
PRICING_ROUNDS = 2  # real-time writes: price again once if the order moved meanwhile


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


def _concurrent_update() -> Conflict:
    return Conflict(
        ErrorCode.CONCURRENT_UPDATE, "The order is being changed by another request; retry."
    )


def with_retries(
    if_match: frozenset[int] | None, work: Callable[[], T], attempts: int = ATTEMPTS
) -> T:
    """Re-run a write that lost an optimistic-lock race; with If-Match the client asked for
    that exact version, so a lost race is a 412 instead."""
    for _ in range(attempts):
        try:
            return work()
        except StaleWrite:
            if if_match is not None:
                raise PreconditionFailed(
                    ErrorCode.VERSION_MISMATCH, "The order changed since that version."
                ) from None
    raise _concurrent_update()


def check_version(order: CommercialOrder, if_match: frozenset[int] | None) -> None:
    """If-Match names the versions the client wrote against (None: any)."""
    if if_match is not None and order.version not in if_match:
        asked = ", ".join(str(v) for v in sorted(if_match)) or "no version of this order"
        raise PreconditionFailed(
            ErrorCode.VERSION_MISMATCH,
            f"If-Match asks for {asked}; the order is at version {order.version}.",
        )


def editable_draft(
    uow: UnitOfWork,
    caller: Caller,
    reference: str,
    if_match: frozenset[int] | None,
    *,
    lock: bool = True,
) -> CommercialOrder:
    """The caller's draft order-based order (404, 412, 409 otherwise), locked against other
    writers unless only read before a call to an outside system."""
    ensure_can_write(caller)
    order = uow.orders.get(
        reference, account_id=caller.account_id, store_id=caller.store_id, for_update=lock
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


def ask_pricing_system(
    pricing: PricingGateways, settings: TenantSettings, request: PriceRequest | None
) -> RealTimeQuotes:
    """One call for every line of the request, outside any transaction. A failure is a
    value (the quotes say why there are none), never a fallback to stored prices."""
    if request is None or not request.lines:
        return RealTimeQuotes()
    if not settings.pricing_url:
        return RealTimeQuotes(failure="Real-time pricing is on but no pricingUrl is set.")
    try:
        quotes = pricing(settings.pricing_url).quote(request)
    except PricingUnavailable as exc:
        return RealTimeQuotes(failure=str(exc))
    return RealTimeQuotes(quotes, {line.line_id: line.quantity for line in request.lines})


# What a priced write does with the order once it holds it: `ask` builds the pricing
# request from an unlocked read (real-time mode only); `apply` plans and writes under the
# lock with the prices it is given.
Ask = Callable[[UnitOfWork, CommercialOrder, TenantSettings], PriceRequest | None]
Apply = Callable[[UnitOfWork, CommercialOrder, TenantSettings, PriceSource], T]


def priced_write(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    if_match: frozenset[int] | None,
    pricing: PricingGateways,
    ask: Ask,
    apply: Apply[T],
) -> T:
    """A write of the caller's draft that prices lines.

    STANDARD: one unit of work, the order locked, stored prices. RTP: read the order and
    build one pricing request, end the transaction, call the pricing system, then lock the
    order and, if its version has not moved, apply to the order as read (its lines are not
    read again); if it moved, read it again, price once more, then 409 CONCURRENT_UPDATE.
    No transaction or lock is held while the pricing system answers."""

    def attempt() -> T:
        with uow_factory() as uow:
            settings = uow.catalog.settings()
            if not settings.real_time_pricing:
                order = editable_draft(uow, caller, reference, if_match)
                return apply(uow, order, settings, standard_quote)
            order = editable_draft(uow, caller, reference, if_match, lock=False)
            seen_version = order.version
            request = ask(uow, order, settings)
        for _ in range(PRICING_ROUNDS):
            quotes = ask_pricing_system(pricing, settings, request)
            with uow_factory() as uow:
                locked = uow.orders.relock(order, seen_version)
                if locked is not None:  # unchanged since it was read: apply to it
                    return apply(uow, locked, settings, quotes)
                order = editable_draft(uow, caller, reference, if_match)
                seen_version = order.version
                request = ask(uow, order, settings)
        raise _concurrent_update()

    return with_retries(if_match, attempt)
