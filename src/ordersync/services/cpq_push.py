"""Push an order to CPQ (SPEC §3.3): one push in flight per order, never half-applied."""

from __future__ import annotations

import uuid
from datetime import timedelta

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.cpq import CpqGateways, CpqLine, CpqOrder, CpqResult, CpqUnavailable
from ordersync.domain.errors import BadGateway, Conflict, ErrorCode, NotFound, Unprocessable
from ordersync.domain.history import Source
from ordersync.domain.orders import CommercialOrder
from ordersync.services.access import ensure_can_write
from ordersync.services.order_context import utcnow
from ordersync.services.order_writes import UowFactory, with_retries


def push_to_cpq(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    cpq: CpqGateways,
    *,
    lease_seconds: float,
) -> CommercialOrder:
    """Create the order's CPQ transaction (first push) or update it, and record what CPQ
    answered. The lease row keeps a second push of the same order out (409
    SYNC_IN_PROGRESS) on every process and machine; no transaction is open while CPQ
    answers; a CPQ failure (502 CPQ_UNAVAILABLE) changes nothing."""
    ensure_can_write(caller)
    holder = uuid.uuid4().hex
    with uow_factory() as uow:
        settings = uow.catalog.settings()
        order = _callers_order(uow, caller, reference)
        if not settings.cpq_url:
            raise Unprocessable(ErrorCode.CPQ_DISABLED, "No CPQ system is configured (cpqUrl).")
        assert order.id is not None
        order_id, seen_version, transaction_id = order.id, order.version, order.cpq_transaction_id
        pushed = cpq_order(uow, order)
        # Taken in the read's own short transaction, committed before CPQ is called.
        now = utcnow()
        if not uow.leases.take(order_id, holder, now, now + timedelta(seconds=lease_seconds)):
            raise Conflict(
                ErrorCode.SYNC_IN_PROGRESS,
                f"Order {reference} is being pushed to CPQ already; try again later.",
            )
        uow.commit()
    released = False
    try:
        try:
            # Derived from the order and its version: a retry of a create that timed out
            # (by us or by the client) finds the transaction CPQ made, never a second one.
            key = f"ordersync:{reference}:v{seen_version}"
            result = cpq(settings.cpq_url).push(
                pushed, transaction_id=transaction_id, idempotency_key=key
            )
        except CpqUnavailable as exc:
            raise BadGateway(
                ErrorCode.CPQ_UNAVAILABLE, f"CPQ did not take the order: {exc}"
            ) from None
        pushed_order = with_retries(
            None, lambda: _record(uow_factory, caller, reference, result, seen_version, holder)
        )
        released = True  # in the record's transaction
        return pushed_order
    finally:
        if not released:
            with uow_factory() as uow:
                uow.leases.release(order_id, holder)
                uow.commit()


def _callers_order(
    uow: UnitOfWork, caller: Caller, reference: str, lock: bool = False
) -> CommercialOrder:
    order = uow.orders.get(
        reference, account_id=caller.account_id, store_id=caller.store_id, for_update=lock
    )
    if order is None:
        raise NotFound(ErrorCode.ORDER_NOT_FOUND, f"No commercial order {reference}.")
    return order


def _record(
    uow_factory: UowFactory,
    caller: Caller,
    reference: str,
    result: CpqResult,
    seen_version: int,
    holder: str,
) -> CommercialOrder:
    """Record CPQ's answer on the order and release the push's lease, in one transaction."""
    with uow_factory() as uow:
        order = _callers_order(uow, caller, reference, lock=True)
        order.record_cpq_push(result, utcnow(), outdated=order.version != seen_version)
        assert order.id is not None
        uow.leases.release(order.id, holder)
        uow.commit(Source.CPQ)
        return order


def cpq_order(uow: UnitOfWork, order: CommercialOrder) -> CpqOrder:
    """The order as CPQ receives it: header, totals, custom fields and every line."""
    return CpqOrder(
        reference=order.reference,
        account_external_id=uow.catalog.account(order.account_id).external_id,
        store_external_id=uow.access.store_external_id(order.store_id),
        currency=order.currency,
        total_net=order.total_net,
        total_tax=order.total_tax,
        total_gross=order.total_gross,
        custom_fields=dict(order.custom_fields),
        lines=tuple(
            CpqLine(
                line_id=str(line.id),
                variant_external_id=line.variant_external_id,
                offer_price_external_id=line.offer_price_external_id,
                quantity=line.quantity,
                net_unit_price=line.net_unit_price,
                gross_unit_price=line.gross_unit_price,
                tax_amount=line.tax_amount,
                total_net=line.total_net,
                custom_fields=dict(line.custom_fields),
            )
            for line in order.lines
        ),
    )
