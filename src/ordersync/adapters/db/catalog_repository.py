"""Read-only catalog queries, each returning immutable domain snapshots in one statement."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, exists, select
from sqlalchemy.orm import Session

from ordersync.adapters.db.catalog_cache import CatalogCache, tier_of
from ordersync.adapters.db.tables import (
    accounts,
    catalog_view_variants,
    catalog_views,
    custom_fields,
    offer_prices,
    offers,
    operations,
    store_view_catalog_views,
    suppliers,
    tenant_settings,
    variants,
)
from ordersync.domain.catalog import (
    Account,
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
from ordersync.domain.tenant import PricingMode, TenantSettings

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def _offer_price_query() -> Select[Any]:
    return (
        select(
            offer_prices,
            offers.c.status.label("offer_status"),
            offers.c.available_quantity,
            offers.c.supplier_id,
            offers.c.variant_id,
            suppliers.c.external_id.label("supplier_external_id"),
            suppliers.c.status.label("supplier_status"),
            variants.c.external_id.label("variant_external_id"),
            variants.c.name.label("variant_name"),
            variants.c.description.label("variant_description"),
            variants.c.classification_external_id,
        )
        .join(offers, offers.c.id == offer_prices.c.offer_id)
        .join(suppliers, suppliers.c.id == offers.c.supplier_id)
        .join(variants, variants.c.id == offers.c.variant_id)
    )


def _offer_price(row: Row[Any]) -> OfferPrice:
    m = row._mapping
    return OfferPrice(
        id=m["id"],
        external_id=m["external_id"],
        offer_id=m["offer_id"],
        offer_status=Status(m["offer_status"]),
        supplier_id=m["supplier_id"],
        supplier_external_id=m["supplier_external_id"],
        supplier_status=Status(m["supplier_status"]),
        variant_id=m["variant_id"],
        variant_external_id=m["variant_external_id"],
        variant_name=m["variant_name"],
        variant_description=m["variant_description"],
        classification_external_id=m["classification_external_id"],
        currency=m["currency"],
        tax_rate=m["tax_rate"],
        tiers=tuple(
            PriceTier(
                int(t["minQuantity"]),
                Decimal(str(t["netUnitPrice"])),
                Decimal(str(t["grossUnitPrice"])),
            )
            for t in m["tiers"]
        ),
        min_order_quantity=m["min_order_quantity"],
        max_order_quantity=m["max_order_quantity"],
        quantity_step=m["quantity_step"] or 1,
        valid_from=m["valid_from"],
        valid_to=m["valid_to"],
        eligible_account_ids=frozenset(m["eligible_account_ids"] or ()),
        eligible_account_groups=frozenset(m["eligible_account_groups"] or ()),
        available_quantity=m["available_quantity"],
    )


class CatalogRepository:
    """Catalog reads. With a cache (the serving process's), each is read from the database
    once per catalog version; `on_hit` tells the unit of work a cached value was used."""

    def __init__(
        self,
        session: Session,
        cache: CatalogCache | None = None,
        on_hit: Callable[[str], None] | None = None,
    ) -> None:
        self.session = session
        self.cache = cache
        self.on_hit = on_hit or (lambda _tier: None)

    def _memo(self, kind: str, key: Hashable, load: Callable[[], T]) -> T:
        if self.cache is None:
            return load()
        value, hit = self.cache.memo(kind, key, load)
        if hit:
            self.on_hit(tier_of(kind))
        return value

    def _memo_many(
        self, kind: str, keys: Collection[K], load: Callable[[list[K]], dict[K, T]]
    ) -> dict[K, T]:
        if self.cache is None:
            return load(list(keys)) if keys else {}
        values, hit = self.cache.memo_many(kind, keys, load)
        if hit:
            self.on_hit(tier_of(kind))
        return values

    def settings(self) -> TenantSettings:
        return self._memo("settings", None, self._settings)

    def _settings(self) -> TenantSettings:
        row = self.session.execute(
            select(tenant_settings).where(tenant_settings.c.id == 1)
        ).first()
        if row is None:
            return TenantSettings()
        m = row._mapping
        return TenantSettings(
            PricingMode(m["pricing_mode"]),
            m["pricing_url"],
            m["cpq_url"],
            m["currency"],
            m["operations_enabled"],
        )

    def offer_prices(
        self,
        *,
        ids: Collection[int] = (),
        external_ids: Collection[str] = (),
        variant_external_ids: Collection[str] = (),
    ) -> list[OfferPrice]:
        """Offer prices named by id, external id, or belonging to a variant: one statement
        for those not cached."""
        found: dict[int, OfferPrice] = {}
        if ids:
            found.update(self._memo_many("offer_price", set(ids), self._prices_by_id))
        if external_ids:
            by_external_id = self._memo_many(
                "offer_price_external_id", set(external_ids), self._prices_by_external_id
            )
            found.update((p.id, p) for p in by_external_id.values())
        if variant_external_ids:
            of_variants = self._memo_many(
                "variant_offer_prices", set(variant_external_ids), self._prices_of_variants
            )
            found.update((p.id, p) for prices in of_variants.values() for p in prices)
        return list(found.values())

    def _prices(self, condition: ColumnElement[bool]) -> list[OfferPrice]:
        return [
            _offer_price(row)
            for row in self.session.execute(_offer_price_query().where(condition))
        ]

    def _prices_by_id(self, ids: list[int]) -> dict[int, OfferPrice]:
        return {p.id: p for p in self._prices(offer_prices.c.id.in_(ids))}

    def _prices_by_external_id(self, external_ids: list[str]) -> dict[str, OfferPrice]:
        return {
            p.external_id: p for p in self._prices(offer_prices.c.external_id.in_(external_ids))
        }

    def _prices_of_variants(self, variant_ids: list[str]) -> dict[str, tuple[OfferPrice, ...]]:
        grouped = group_by_variant(self._prices(variants.c.external_id.in_(variant_ids)))
        return {v: tuple(grouped.get(v, ())) for v in variant_ids}

    def visible_variant_ids(
        self, store_view_id: int | None, variant_ids: Collection[int]
    ) -> frozenset[int]:
        """Which of `variant_ids` a catalog view of the store view contains. A store with no
        store view shows its whole catalog."""
        if not variant_ids:
            return frozenset()
        if store_view_id is None:
            return frozenset(variant_ids)
        visible = self._memo("visibility", store_view_id, lambda: self._visible(store_view_id))
        return frozenset(variant_ids) if visible is None else visible & frozenset(variant_ids)

    def _visible(self, store_view_id: int) -> frozenset[int] | None:
        """Every variant the store view shows (None: the whole catalog). Read once per
        store view and catalog version."""
        views = store_view_catalog_views.c
        sees_everything = select(
            exists()
            .where(views.store_view_id == store_view_id)
            .where(views.catalog_view_id == catalog_views.c.id)
            .where(catalog_views.c.all_variants)
        )
        if self.session.scalar(sees_everything):
            return None
        listed = (
            select(catalog_view_variants.c.variant_id)
            .join(
                store_view_catalog_views,
                views.catalog_view_id == catalog_view_variants.c.catalog_view_id,
            )
            .where(views.store_view_id == store_view_id)
        )
        return frozenset(self.session.scalars(listed))

    def account(self, account_id: int) -> Account:
        return self._memo("account", account_id, lambda: self._account(account_id))

    def _account(self, account_id: int) -> Account:
        row = self.session.execute(select(accounts).where(accounts.c.id == account_id)).one()
        m = row._mapping
        return Account(
            id=m["id"],
            external_id=m["external_id"],
            name=m["name"],
            status=Status(m["status"]),
            groups=frozenset(m["groups"] or ()),
            shipping_addresses=tuple(m["shipping_addresses"] or ()),
        )

    def operation(self, external_id: str) -> Operation | None:
        return self._memo("operation", external_id, lambda: self._operation(external_id))

    def _operation(self, external_id: str) -> Operation | None:
        row = self.session.execute(
            select(operations).where(operations.c.external_id == external_id)
        ).first()
        if row is None:
            return None
        m = row._mapping
        return Operation(
            id=m["id"],
            external_id=m["external_id"],
            status=OperationStatus(m["status"]),
            type=OperationType(m["type"]),
            start_date=m["start_date"],
            end_date=m["end_date"],
            account_ids=frozenset(m["account_ids"] or ()),
            lines=tuple(
                OperationLine(
                    ln["variantId"],
                    ln["variantExternalId"],
                    ln.get("minQuantity"),
                    ln.get("maxQuantity"),
                    ln.get("recommendedQuantity"),
                )
                for ln in m["lines"] or ()
            ),
        )

    def custom_fields(self) -> list[CustomField]:
        return list(self._memo("custom_fields", None, self._custom_fields))

    def _custom_fields(self) -> tuple[CustomField, ...]:
        return tuple(
            CustomField(
                id=m["id"],
                external_id=m["external_id"],
                entity=CustomFieldEntity(m["entity"]),
                type=CustomFieldType(m["type"]),
                required=m["required"],
                allowed_values=tuple(m["allowed_values"] or ()),
            )
            for m in (r._mapping for r in self.session.execute(select(custom_fields)))
        )


def group_by_variant(prices: Sequence[OfferPrice]) -> dict[str, list[OfferPrice]]:
    grouped: dict[str, list[OfferPrice]] = defaultdict(list)
    for price in prices:
        grouped[price.variant_external_id].append(price)
    return dict(grouped)
