"""Writing the catalog part of a data bundle (SPEC §6) with set-based upserts by external id.

Per entity type: one select of the ids already stored, one executemany INSERT for new rows, one
executemany UPDATE for the others, and association rows replaced for the parents in the bundle.
The whole bundle is checked first (catalog_checks), so an invalid bundle writes nothing. The
caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, insert, select, update

from ordersync.adapters.db.catalog_checks import bundle_problems, default_store
from ordersync.adapters.db.catalog_ids import IdCache, Row, replace_links, unique, upsert
from ordersync.adapters.db.tables import (
    account_stores,
    accounts,
    catalog_state,
    catalog_view_variants,
    catalog_views,
    custom_fields,
    offer_prices,
    offers,
    operations,
    store_view_catalog_views,
    store_views,
    stores,
    suppliers,
    tenant_settings,
    user_accounts,
    user_stores,
    users,
    variants,
)
from ordersync.domain.access import ClientType
from ordersync.domain.api_keys import hash_api_key
from ordersync.domain.bundle import DataBundle
from ordersync.domain.errors import ErrorCode, Unprocessable

Progress = Callable[[str, int], None]

_SETTINGS_ID = 1


def upsert_catalog(
    conn: Connection, bundle: DataBundle, progress: Progress | None = None
) -> dict[str, int]:
    """Upsert every catalog entity of `bundle` by external id, in dependency order, and return
    the rows written per entity type. Raises Unprocessable(BUNDLE_INVALID) listing every problem
    found before writing anything; never commits."""
    ids = IdCache(conn)
    problems = bundle_problems(conn, bundle, ids)
    if problems:
        raise Unprocessable(
            ErrorCode.BUNDLE_INVALID, f"The data bundle has {len(problems)} problem(s).", problems
        )
    counts: dict[str, int] = {}
    for name, step in _STEPS:
        counts[name] = step(conn, bundle, ids)
        if progress is not None:
            progress(name, counts[name])
    return counts


# The sections a bundle may hold that callers and their context are read from; the others
# (suppliers, variants, offers) only change what is ordered at which price.
ACCESS_SECTIONS = (
    "settings",
    "stores",
    "catalog_views",
    "store_views",
    "accounts",
    "users",
    "custom_fields",
    "operations",
)


def bump_catalog_version(conn: Connection, bundle: DataBundle) -> tuple[int, int]:
    """The catalog's next (version, access version). On PostgreSQL the row stays locked
    until the load's transaction ends, which makes concurrent loads wait for each other;
    SQLite already holds its one write lock (BEGIN IMMEDIATE)."""
    touches_access = bundle.settings is not None or any(
        getattr(bundle, section) for section in ACCESS_SECTIONS[1:]
    )
    c = catalog_state.c
    stmt = (
        update(catalog_state)
        .where(c.id == 1)
        .values(version=c.version + 1, access_version=c.access_version + int(touches_access))
        .returning(c.version, c.access_version)
    )
    row = conn.execute(stmt).first()
    if row is None:  # a database created before the row existed
        conn.execute(insert(catalog_state).values(id=1, version=1, access_version=1))
        return 1, 1
    return int(row[0]), int(row[1])


# --- one step per entity type --------------------------------------------------------------


def _upsert_settings(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    settings = bundle.settings
    if settings is None:
        return 0
    values: Row = {
        "pricing_mode": settings.pricing_mode.value,
        "pricing_url": settings.pricing_url,
        "cpq_url": settings.cpq_url,
        "currency": settings.currency,
        "operations_enabled": settings.operations_enabled,
    }
    row = select(tenant_settings.c.id).where(tenant_settings.c.id == _SETTINGS_ID)
    if conn.execute(row).first() is None:
        conn.execute(insert(tenant_settings).values(id=_SETTINGS_ID, **values))
        return 1
    # An existing row keeps what this bundle does not mention.
    given = {key: value for key, value in values.items() if key in settings.model_fields_set}
    if given:
        stmt = update(tenant_settings).where(tenant_settings.c.id == _SETTINGS_ID)
        conn.execute(stmt.values(**given))
    return 1


def _upsert_stores(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [{"external_id": s.external_id, "name": s.name} for s in bundle.stores]
    upsert(conn, ids, stores, rows)
    chosen = default_store(bundle)
    if chosen is not None:
        default_id = ids.get(stores, chosen)
        conn.execute(update(stores).values(is_default=stores.c.id == default_id))
    return len(rows)


def _upsert_suppliers(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {"external_id": s.external_id, "name": s.name, "status": s.status.value}
        for s in bundle.suppliers
    ]
    upsert(conn, ids, suppliers, rows)
    return len(rows)


def _upsert_accounts(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {
            "external_id": a.external_id,
            "name": a.name,
            "status": a.status.value,
            "groups": unique(a.groups),
            "shipping_addresses": [
                address.model_dump(by_alias=True) for address in a.shipping_addresses
            ],
        }
        for a in bundle.accounts
    ]
    account_ids = upsert(conn, ids, accounts, rows)
    links = [
        {"account_id": account_id, "store_id": ids.get(stores, store)}
        for a, account_id in zip(bundle.accounts, account_ids, strict=True)
        for store in unique(a.stores)
    ]
    replace_links(conn, account_stores, "account_id", account_ids, links)
    return len(rows)


def _upsert_users(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {
            "external_id": u.external_id,
            "name": u.name,
            "client_type": u.client_type.value,
            "api_key_hash": hash_api_key(u.api_key.get_secret_value()),
            "supplier_id": ids.get(suppliers, u.supplier)
            if u.client_type is ClientType.SUPPLIER and u.supplier is not None
            else None,
        }
        for u in bundle.users
    ]
    user_ids = upsert(conn, ids, users, rows)
    pairs = list(zip(bundle.users, user_ids, strict=True))
    account_links = [
        {"user_id": user_id, "account_id": ids.get(accounts, account), "position": position}
        for u, user_id in pairs
        for position, account in enumerate(unique(u.accounts))
    ]
    store_links = [
        {"user_id": user_id, "store_id": ids.get(stores, store)}
        for u, user_id in pairs
        for store in unique(u.stores)
    ]
    replace_links(conn, user_accounts, "user_id", user_ids, account_links)
    replace_links(conn, user_stores, "user_id", user_ids, store_links)
    return len(rows)


def _upsert_variants(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {
            "external_id": v.external_id,
            "sku": v.sku,
            "name": v.name,
            "description": v.description,
            "classification_external_id": v.classification,
            "product_external_id": v.product,
        }
        for v in bundle.variants
    ]
    upsert(conn, ids, variants, rows)
    return len(rows)


def _upsert_catalog_views(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {"external_id": cv.external_id, "all_variants": cv.all_variants}
        for cv in bundle.catalog_views
    ]
    view_ids = upsert(conn, ids, catalog_views, rows)
    known = ids.lookup(variants, (v for cv in bundle.catalog_views for v in cv.variants))
    links = [
        {"catalog_view_id": view_id, "variant_id": known[variant]}
        for cv, view_id in zip(bundle.catalog_views, view_ids, strict=True)
        for variant in unique(cv.variants)
        if variant in known
    ]
    replace_links(conn, catalog_view_variants, "catalog_view_id", view_ids, links)
    return len(rows)


def _upsert_store_views(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {"external_id": sv.external_id, "store_id": ids.get(stores, sv.store), "name": sv.name}
        for sv in bundle.store_views
    ]
    view_ids = upsert(conn, ids, store_views, rows)
    links = [
        {"store_view_id": view_id, "catalog_view_id": ids.get(catalog_views, cv)}
        for sv, view_id in zip(bundle.store_views, view_ids, strict=True)
        for cv in unique(sv.catalog_views)
    ]
    replace_links(conn, store_view_catalog_views, "store_view_id", view_ids, links)
    return len(rows)


def _upsert_offers(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {
            "external_id": o.external_id,
            "supplier_id": ids.get(suppliers, o.supplier),
            "variant_id": ids.get(variants, o.variant),
            "status": o.status.value,
            "available_quantity": o.stock,
        }
        for o in bundle.offers
    ]
    upsert(conn, ids, offers, rows)
    return len(rows)


def _upsert_offer_prices(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {
            "external_id": p.external_id,
            "offer_id": ids.get(offers, o.external_id),
            "currency": p.currency,
            "tax_rate": p.tax_rate,
            "tiers": [
                {
                    "minQuantity": t.min_quantity,
                    "netUnitPrice": str(t.net_unit_price),
                    "grossUnitPrice": str(t.gross_unit_price),
                }
                for t in p.tiers
            ],
            "min_order_quantity": p.min_order_quantity,
            "max_order_quantity": p.max_order_quantity,
            "quantity_step": p.quantity_step,
            "valid_from": p.valid_from,
            "valid_to": p.valid_to,
            "eligible_account_ids": [ids.get(accounts, a) for a in unique(p.accounts)],
            "eligible_account_groups": unique(p.account_groups),
        }
        for o in bundle.offers
        for p in o.prices
    ]
    upsert(conn, ids, offer_prices, rows)
    return len(rows)


def _upsert_operations(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {
            "external_id": op.external_id,
            "name": op.name,
            "status": op.status.value,
            "type": op.type.value,
            "start_date": op.start_date,
            "end_date": op.end_date,
            "account_ids": [ids.get(accounts, a) for a in unique(op.accounts)],
            "lines": [
                {
                    "variantId": ids.get(variants, line.variant),
                    "variantExternalId": line.variant,
                    "minQuantity": line.min_quantity,
                    "maxQuantity": line.max_quantity,
                    "recommendedQuantity": line.recommended_quantity,
                }
                for line in op.lines
            ],
        }
        for op in bundle.operations
    ]
    upsert(conn, ids, operations, rows)
    return len(rows)


def _upsert_custom_fields(conn: Connection, bundle: DataBundle, ids: IdCache) -> int:
    rows = [
        {
            "external_id": cf.external_id,
            "name": cf.name,
            "entity": cf.entity.value,
            "type": cf.type.value,
            "required": cf.required,
            "allowed_values": cf.allowed_values,
        }
        for cf in bundle.custom_fields
    ]
    upsert(conn, ids, custom_fields, rows)
    return len(rows)


# Catalog views come after variants and store views after catalog views: each links to the other.
_STEPS: tuple[tuple[str, Callable[[Connection, DataBundle, IdCache], int]], ...] = (
    ("settings", _upsert_settings),
    ("stores", _upsert_stores),
    ("suppliers", _upsert_suppliers),
    ("accounts", _upsert_accounts),
    ("users", _upsert_users),
    ("variants", _upsert_variants),
    ("catalogViews", _upsert_catalog_views),
    ("storeViews", _upsert_store_views),
    ("offers", _upsert_offers),
    ("offerPrices", _upsert_offer_prices),
    ("operations", _upsert_operations),
    ("customFields", _upsert_custom_fields),
)
