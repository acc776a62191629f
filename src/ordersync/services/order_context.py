"""Loading what the rules need for one order, in a constant number of statements."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ordersync.adapters.db.catalog_repository import group_by_variant
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.catalog import BuyerContext, CustomField, CustomFieldEntity, OfferPrice
from ordersync.domain.errors import ErrorCode, Forbidden, Unprocessable
from ordersync.domain.orders import CommercialOrder, SourceType
from ordersync.domain.tenant import TenantSettings
from ordersync.rules.custom_fields import check_values
from ordersync.rules.line_updates import Catalog


def utcnow() -> datetime:
    return datetime.now(UTC)


class CustomFieldIdType(StrEnum):
    """How a request names custom fields: by external id (default) or internal id."""

    EXTERNAL_ID = "EXTERNAL_ID"
    DJUST_ID = "DJUST_ID"


@dataclass(frozen=True)
class CustomFieldBook:
    definitions: list[CustomField]

    def keyed(self, id_type: str = CustomFieldIdType.EXTERNAL_ID) -> dict[str, CustomField]:
        if id_type == CustomFieldIdType.DJUST_ID:
            return {str(d.id): d for d in self.definitions}
        return {d.external_id: d for d in self.definitions}

    def check(
        self,
        values: Mapping[str, Any],
        id_type: str,
        entity: CustomFieldEntity,
        field_prefix: str,
    ) -> dict[str, Any]:
        checked, problems = check_values(values, self.keyed(id_type), entity, field_prefix)
        if problems:
            raise Unprocessable(ErrorCode(problems[0].code), problems[0].message, problems)
        return checked


def load_operation_catalog(
    uow: UnitOfWork, order: CommercialOrder, settings: TenantSettings
) -> Catalog:
    """The catalog with the order's operation, if the order comes from one."""
    if order.source_type is not SourceType.OPERATION or order.source_id is None:
        return Catalog({}, {})
    if not settings.operations_enabled:
        raise Forbidden(ErrorCode.FEATURE_DISABLED, "Operations are disabled on this platform.")
    return Catalog({}, {}, uow.catalog.operation(order.source_id))


def load_catalog(
    uow: UnitOfWork,
    base: Catalog,
    *,
    ids: Collection[int] = (),
    external_ids: Collection[str] = (),
    variant_external_ids: Collection[str] = (),
) -> tuple[Catalog, dict[int, OfferPrice]]:
    prices = uow.catalog.offer_prices(
        ids=ids,
        external_ids=external_ids,
        variant_external_ids=variant_external_ids,
    )
    catalog = Catalog({p.external_id: p for p in prices}, group_by_variant(prices), base.operation)
    return catalog, {p.id: p for p in prices}


def buyer_context(
    uow: UnitOfWork,
    caller: Caller,
    order: CommercialOrder,
    prices: Collection[OfferPrice],
    now: datetime,
    settings: TenantSettings,
) -> BuyerContext:
    """The buyer, the store view (the request's, else the order's), which of the variants in
    play it can see, and whether stock comes from the pricing system."""
    store_view_id = caller.store_view_id or order.store_view_id
    visible = uow.catalog.visible_variant_ids(store_view_id, {p.variant_id for p in prices})
    return BuyerContext(
        uow.catalog.account(order.account_id),
        order.store_id,
        store_view_id,
        now,
        visible,
        stock_from_pricing=settings.real_time_pricing,
    )
