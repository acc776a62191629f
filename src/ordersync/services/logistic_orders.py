"""Back-office use cases on logistic orders: list and patch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ordersync.adapters.db.order_queries import logistic_order_page
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.errors import Conflict, DuplicateValue, ErrorCode, NotFound
from ordersync.domain.history import Source
from ordersync.domain.listing import LogisticOrderFilter, LogisticOrderRow
from ordersync.domain.orders import CommercialOrder, LogisticOrder
from ordersync.domain.paging import Page, PageRequest, SortKey
from ordersync.rules.logistic_orders import LogisticOrderPatch, apply_patch
from ordersync.services.order_context import utcnow
from ordersync.services.order_writes import check_version, with_retries

LOGISTIC_ORDER_SORT_FIELDS = ("createdAt", "updatedAt", "reference", "status")
DEFAULT_LOGISTIC_ORDER_SORT = (SortKey("createdAt", descending=True), SortKey("reference"))


def list_logistic_orders(
    uow: UnitOfWork, where: LogisticOrderFilter, request: PageRequest
) -> Page[LogisticOrderRow]:
    """One page of logistic orders of every account, filtered and sorted."""
    with uow:
        items, total = logistic_order_page(uow.session, where, request)
        return Page(items, request.page, request.size, total)


@dataclass(frozen=True)
class PatchResult:
    order: CommercialOrder
    logistic_order: LogisticOrder


def patch_logistic_order(
    uow_factory: Callable[[], UnitOfWork],
    reference: str,
    patch: LogisticOrderPatch,
    *,
    if_match: frozenset[int] | None = None,
) -> PatchResult:
    """Status forward only, externalId once, shipping address where the status table allows;
    each change bumps the owning commercial order's version."""

    def work() -> PatchResult:
        with uow_factory() as uow:
            order = uow.orders.owning(reference, for_update=True)
            lo = (
                next((x for x in order.logistic_orders if x.reference == reference), None)
                if order
                else None
            )
            if order is None or lo is None:
                raise NotFound(
                    ErrorCode.LOGISTIC_ORDER_NOT_FOUND, f"No logistic order {reference}."
                )
            check_version(order, if_match)
            taken = Conflict(
                ErrorCode.EXTERNAL_ID_TAKEN,
                f"External id {patch.external_id} belongs to another logistic order.",
            )
            new_external_id = patch.external_id if lo.external_id is None else None
            if new_external_id and uow.orders.logistic_external_id_taken(new_external_id):
                raise taken
            if apply_patch(order, lo, patch, utcnow()):
                try:
                    uow.commit(Source.OPERATOR_PATCH)
                except DuplicateValue:
                    # Another request took the id between the check and the commit; the
                    # external id is the only unique value a patch writes.
                    if new_external_id:
                        raise taken from None
                    raise
            return PatchResult(order, lo)

    return with_retries(if_match, work)
