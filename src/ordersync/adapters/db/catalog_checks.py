"""Checks of a whole data bundle before anything is written: duplicate ids, default-store
conflicts, unknown references (in the bundle or the database), API keys already taken."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Table, select

from ordersync.adapters.db.catalog_ids import IdCache, chunks, unique
from ordersync.adapters.db.tables import (
    accounts,
    catalog_views,
    custom_fields,
    offers,
    operations,
    store_views,
    stores,
    suppliers,
    users,
    variants,
)
from ordersync.domain.access import ClientType
from ordersync.domain.api_keys import hash_api_key
from ordersync.domain.bundle import DataBundle
from ordersync.domain.errors import ErrorCode, FieldError


def bundle_problems(conn: Connection, bundle: DataBundle, ids: IdCache) -> list[FieldError]:
    """Every problem of the bundle, each with its path (e.g. `offers[3].supplier`)."""
    return [
        *_duplicate_ids(bundle),
        *_default_store_conflicts(bundle),
        *_unknown_references(bundle, ids),
        *_api_keys_taken(conn, bundle),
    ]


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
    groups.append([(f"orders[{i}]", order) for i, order in enumerate(bundle.orders)])
    for located in groups:
        seen: set[str] = set()
        for path, item in located:
            if item.external_id in seen:
                message = f"External id {item.external_id!r} appears more than once."
                yield FieldError(ErrorCode.BUNDLE_INVALID, f"{path}.externalId", message)
            seen.add(item.external_id)
    references: set[str] = set()
    for i, order in enumerate(bundle.orders):
        if order.reference is not None and order.reference in references:
            message = f"Reference {order.reference!r} appears more than once."
            yield FieldError(ErrorCode.BUNDLE_INVALID, f"orders[{i}].reference", message)
        if order.reference is not None:
            references.add(order.reference)


def default_store(bundle: DataBundle) -> str | None:
    """`settings.defaultStore`, else the first store flagged `default`."""
    if bundle.settings is not None and bundle.settings.default_store is not None:
        return bundle.settings.default_store
    return next((s.external_id for s in bundle.stores if s.is_default), None)


def _default_store_conflicts(bundle: DataBundle) -> Iterator[FieldError]:
    chosen = default_store(bundle)
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


def _unknown_references(bundle: DataBundle, ids: IdCache) -> Iterator[FieldError]:
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
    for chunk in chunks(unique(hashes)):
        stmt = select(users.c.api_key_hash, users.c.external_id)
        result = conn.execute(stmt.where(users.c.api_key_hash.in_(chunk)))
        owners.update((digest, external_id) for digest, external_id in result)
    for i, (user, digest) in enumerate(zip(bundle.users, hashes, strict=True)):
        if owners.setdefault(digest, user.external_id) != user.external_id:
            message = "This API key already belongs to another user."
            yield FieldError(ErrorCode.BUNDLE_INVALID, f"users[{i}].apiKey", message)
