"""Load the catalog part of a data bundle (SPEC §6) with set-based upserts by external id.

Per entity type: one select of the ids already stored, one executemany INSERT for new rows, one
executemany UPDATE for the others, and association rows replaced for the parents in the bundle.
The whole bundle is checked first (duplicate ids, unknown references, API keys taken), so an
invalid bundle writes nothing. The caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from ordersync.adapters.db.tables import (
    account_stores,
    accounts,
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
from ordersync.domain.errors import ErrorCode, FieldError, Unprocessable
from ordersync.services.bundle_schema import DataBundle

Row = dict[str, Any]
Progress = Callable[[str, int], None]

_CHUNK = 5_000
_SETTINGS_ID = 1


def upsert_catalog(
    conn: Connection, bundle: DataBundle, progress: Progress | None = None
) -> dict[str, int]:
    """Upsert every catalog entity of `bundle` by external id, in dependency order, and return
    the rows written per entity type. Raises Unprocessable(BUNDLE_INVALID) listing every problem
    found before writing anything; never commits."""
    ids = _IdCache(conn)
    problems = [
        *_duplicate_ids(bundle),
        *_default_store_conflicts(bundle),
        *_unknown_references(bundle, ids),
        *_api_keys_taken(conn, bundle),
    ]
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


# --- identifiers ---------------------------------------------------------------------------


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class _IdCache:
    """External id -> internal id per table: what the database holds plus what this load
    inserted. A lookup selects only the ids not known yet, in chunks."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._known: dict[str, dict[str, int]] = defaultdict(dict)

    def lookup(self, table: Table, external_ids: Iterable[str]) -> dict[str, int]:
        known = self._known[table.name]
        missing = sorted(set(external_ids) - known.keys())
        for chunk in _chunks(missing):
            stmt = select(table.c.external_id, table.c.id).where(table.c.external_id.in_(chunk))
            known.update((external_id, id_) for external_id, id_ in self._conn.execute(stmt))
        return known

    def remember(self, table: Table, ids: Iterable[tuple[str, int]]) -> None:
        self._known[table.name].update(ids)

    def get(self, table: Table, external_id: str) -> int:
        return self._known[table.name][external_id]


def _upsert(conn: Connection, ids: _IdCache, table: Table, rows: list[Row]) -> list[int]:
    """Insert the rows whose external id is new, update the others; their ids, in row order."""
    existing = ids.lookup(table, (row["external_id"] for row in rows))
    old = [
        {**row, "_id": existing[row["external_id"]]}
        for row in rows
        if row["external_id"] in existing
    ]
    new = [row for row in rows if row["external_id"] not in existing]
    if old:
        conn.execute(update(table).where(table.c.id == bindparam("_id")), old)
    if new:
        stmt = insert(table).returning(table.c.external_id, table.c.id)
        ids.remember(table, ((external_id, id_) for external_id, id_ in conn.execute(stmt, new)))
    return [ids.get(table, row["external_id"]) for row in rows]


def _replace_links(
    conn: Connection, table: Table, parent: str, parent_ids: list[int], links: list[Row]
) -> None:
    for chunk in _chunks(parent_ids):
        conn.execute(delete(table).where(table.c[parent].in_(chunk)))
    if links:
        conn.execute(insert(table), links)


# --- checks --------------------------------------------------------------------------------


class _Identified(Protocol):
    @property
    def external_id(self) -> str: ...


def _entity_lists(bundle: DataBundle) -> Iterator[tuple[str, Table, Sequence[_Identified]]]:
    yield "stores", stores, bundle.stores
    yield "catalogViews", catalog_views, bundle.catalog_views
    yield "storeViews", store_views, bundle.store_views
    yield "suppliers", suppliers, bundle.suppliers
    yield "accounts", accounts, bundle.accounts
    yield "users", users, bundle.users
    yield "variants", variants, bundle.variants
    yield "offers", offers, bundle.offers
    yield "operations", operations, bundle.operations
    yield "customFields", custom_fields, bundle.custom_fields


def _duplicate_ids(bundle: DataBundle) -> Iterator[FieldError]:
    groups = [
        [(f"{key}[{j}]", item) for j, item in enumerate(items)]
        for key, _, items in _entity_lists(bundle)
    ]
    groups.append(
        [
            (f"offers[{i}].prices[{j}]", price)
            for i, offer in enumerate(bundle.offers)
            for j, price in enumerate(offer.prices)
        ]
    )
    for located in groups:
        seen: set[str] = set()
        for path, item in located:
            if item.external_id in seen:
                message = f"External id {item.external_id!r} appears more than once."
                yield FieldError(ErrorCode.BUNDLE_INVALID, f"{path}.externalId", message)
            seen.add(item.external_id)


def _default_store(bundle: DataBundle) -> str | None:
    """`settings.defaultStore`, else the first store flagged `default`."""
    if bundle.settings is not None and bundle.settings.default_store is not None:
        return bundle.settings.default_store
    return next((s.external_id for s in bundle.stores if s.is_default), None)


def _default_store_conflicts(bundle: DataBundle) -> Iterator[FieldError]:
    chosen = _default_store(bundle)
    for i, store in enumerate(bundle.stores):
        if store.is_default and store.external_id != chosen:
            message = f"Store {chosen!r} is already the default store of this bundle."
            yield FieldError(ErrorCode.BUNDLE_INVALID, f"stores[{i}].default", message)


@dataclass(frozen=True)
class _Ref:
    table: Table
    external_id: str
    field: str


def _each(table: Table, external_ids: list[str], field: str) -> Iterator[_Ref]:
    for k, external_id in enumerate(external_ids):
        yield _Ref(table, external_id, f"{field}[{k}]")


def _references(b: DataBundle) -> Iterator[_Ref]:
    if b.settings is not None and b.settings.default_store is not None:
        yield _Ref(stores, b.settings.default_store, "settings.defaultStore")
    # Catalog views may name variants the catalog does not carry (yet): SPEC §6's own example
    # does. Those are skipped when the links are written, not refused.
    for i, sv in enumerate(b.store_views):
        yield _Ref(stores, sv.store, f"storeViews[{i}].store")
        yield from _each(catalog_views, sv.catalog_views, f"storeViews[{i}].catalogViews")
    for i, account in enumerate(b.accounts):
        yield from _each(stores, account.stores, f"accounts[{i}].stores")
    for i, user in enumerate(b.users):
        yield from _each(accounts, user.accounts, f"users[{i}].accounts")
        yield from _each(stores, user.stores, f"users[{i}].stores")
        if user.client_type is ClientType.SUPPLIER and user.supplier is not None:
            yield _Ref(suppliers, user.supplier, f"users[{i}].supplier")
    for i, offer in enumerate(b.offers):
        yield _Ref(suppliers, offer.supplier, f"offers[{i}].supplier")
        yield _Ref(variants, offer.variant, f"offers[{i}].variant")
        for j, price in enumerate(offer.prices):
            yield from _each(accounts, price.accounts, f"offers[{i}].prices[{j}].accounts")
    for i, operation in enumerate(b.operations):
        yield from _each(accounts, operation.accounts, f"operations[{i}].accounts")
        for j, line in enumerate(operation.lines):
            yield _Ref(variants, line.variant, f"operations[{i}].lines[{j}].variant")


def _unknown_references(bundle: DataBundle, ids: _IdCache) -> Iterator[FieldError]:
    in_bundle = {t.name: {e.external_id for e in items} for _, t, items in _entity_lists(bundle)}
    by_table: dict[str, list[_Ref]] = defaultdict(list)
    for ref in _references(bundle):
        if ref.external_id not in in_bundle[ref.table.name]:
            by_table[ref.table.name].append(ref)
    for refs in by_table.values():
        stored = ids.lookup(refs[0].table, (ref.external_id for ref in refs))
        for ref in refs:
            if ref.external_id not in stored:
                message = f"Unknown {ref.table.name} external id {ref.external_id!r}."
                yield FieldError(ErrorCode.BUNDLE_INVALID, ref.field, message)


def _api_keys_taken(conn: Connection, bundle: DataBundle) -> Iterator[FieldError]:
    hashes = [hash_api_key(user.api_key.get_secret_value()) for user in bundle.users]
    owners: dict[str, str] = {}
    for chunk in _chunks(_unique(hashes)):
        stmt = select(users.c.api_key_hash, users.c.external_id)
        result = conn.execute(stmt.where(users.c.api_key_hash.in_(chunk)))
        owners.update((digest, external_id) for digest, external_id in result)
    for i, (user, digest) in enumerate(zip(bundle.users, hashes, strict=True)):
        if owners.setdefault(digest, user.external_id) != user.external_id:
            message = "This API key already belongs to another user."
            yield FieldError(ErrorCode.BUNDLE_INVALID, f"users[{i}].apiKey", message)


# --- one step per entity type --------------------------------------------------------------


def _upsert_settings(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
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


def _upsert_stores(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
    rows = [{"external_id": s.external_id, "name": s.name} for s in bundle.stores]
    _upsert(conn, ids, stores, rows)
    chosen = _default_store(bundle)
    if chosen is not None:
        default_id = ids.get(stores, chosen)
        conn.execute(update(stores).values(is_default=stores.c.id == default_id))
    return len(rows)


def _upsert_suppliers(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
    rows = [
        {"external_id": s.external_id, "name": s.name, "status": s.status.value}
        for s in bundle.suppliers
    ]
    _upsert(conn, ids, suppliers, rows)
    return len(rows)


def _upsert_accounts(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
    rows = [
        {
            "external_id": a.external_id,
            "name": a.name,
            "status": a.status.value,
            "groups": _unique(a.groups),
            "shipping_addresses": [
                address.model_dump(by_alias=True) for address in a.shipping_addresses
            ],
        }
        for a in bundle.accounts
    ]
    account_ids = _upsert(conn, ids, accounts, rows)
    links = [
        {"account_id": account_id, "store_id": ids.get(stores, store)}
        for a, account_id in zip(bundle.accounts, account_ids, strict=True)
        for store in _unique(a.stores)
    ]
    _replace_links(conn, account_stores, "account_id", account_ids, links)
    return len(rows)


def _upsert_users(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
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
    user_ids = _upsert(conn, ids, users, rows)
    pairs = list(zip(bundle.users, user_ids, strict=True))
    account_links = [
        {"user_id": user_id, "account_id": ids.get(accounts, account), "position": position}
        for u, user_id in pairs
        for position, account in enumerate(_unique(u.accounts))
    ]
    store_links = [
        {"user_id": user_id, "store_id": ids.get(stores, store)}
        for u, user_id in pairs
        for store in _unique(u.stores)
    ]
    _replace_links(conn, user_accounts, "user_id", user_ids, account_links)
    _replace_links(conn, user_stores, "user_id", user_ids, store_links)
    return len(rows)


def _upsert_variants(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
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
    _upsert(conn, ids, variants, rows)
    return len(rows)


def _upsert_catalog_views(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
    rows = [
        {"external_id": cv.external_id, "all_variants": cv.all_variants}
        for cv in bundle.catalog_views
    ]
    view_ids = _upsert(conn, ids, catalog_views, rows)
    known = ids.lookup(variants, (v for cv in bundle.catalog_views for v in cv.variants))
    links = [
        {"catalog_view_id": view_id, "variant_id": known[variant]}
        for cv, view_id in zip(bundle.catalog_views, view_ids, strict=True)
        for variant in _unique(cv.variants)
        if variant in known
    ]
    _replace_links(conn, catalog_view_variants, "catalog_view_id", view_ids, links)
    return len(rows)


def _upsert_store_views(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
    rows = [
        {"external_id": sv.external_id, "store_id": ids.get(stores, sv.store), "name": sv.name}
        for sv in bundle.store_views
    ]
    view_ids = _upsert(conn, ids, store_views, rows)
    links = [
        {"store_view_id": view_id, "catalog_view_id": ids.get(catalog_views, cv)}
        for sv, view_id in zip(bundle.store_views, view_ids, strict=True)
        for cv in _unique(sv.catalog_views)
    ]
    _replace_links(conn, store_view_catalog_views, "store_view_id", view_ids, links)
    return len(rows)


def _upsert_offers(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
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
    _upsert(conn, ids, offers, rows)
    return len(rows)


def _upsert_offer_prices(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
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
            "eligible_account_ids": [ids.get(accounts, a) for a in _unique(p.accounts)],
            "eligible_account_groups": _unique(p.account_groups),
        }
        for o in bundle.offers
        for p in o.prices
    ]
    _upsert(conn, ids, offer_prices, rows)
    return len(rows)


def _upsert_operations(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
    rows = [
        {
            "external_id": op.external_id,
            "name": op.name,
            "status": op.status.value,
            "type": op.type.value,
            "start_date": op.start_date,
            "end_date": op.end_date,
            "account_ids": [ids.get(accounts, a) for a in _unique(op.accounts)],
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
    _upsert(conn, ids, operations, rows)
    return len(rows)


def _upsert_custom_fields(conn: Connection, bundle: DataBundle, ids: _IdCache) -> int:
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
    _upsert(conn, ids, custom_fields, rows)
    return len(rows)


# Catalog views come after variants and store views after catalog views: each links to the other.
_STEPS: tuple[tuple[str, Callable[[Connection, DataBundle, _IdCache], int]], ...] = (
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
