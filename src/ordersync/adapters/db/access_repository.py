"""Who is calling: users by API-key hash, stores, store views and accounts by external id."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from ordersync.adapters.db.catalog_cache import CatalogCache, tier_of
from ordersync.adapters.db.tables import (
    accounts,
    store_views,
    stores,
    user_accounts,
    user_stores,
    users,
)
from ordersync.domain.catalog import Status

T = TypeVar("T")


@dataclass(frozen=True)
class UserRecord:
    id: int
    external_id: str
    client_type: str
    account_ids: tuple[int, ...]  # first = default
    store_ids: frozenset[int]
    supplier_id: int | None
    inactive_account_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Ref:
    id: int
    external_id: str
    parent_id: int | None = None


class AccessRepository:
    """Who may call: users, stores, store views, accounts. With a cache (the serving
    process's), each is read once per catalog version; `on_hit` tells the unit of work a
    cached value was used."""

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

    def user_by_key_hash(self, key_hash: str) -> UserRecord | None:
        return self._memo("user_by_key", key_hash, lambda: self._user_by_key_hash(key_hash))

    def _user_by_key_hash(self, key_hash: str) -> UserRecord | None:
        row = self.session.execute(select(users).where(users.c.api_key_hash == key_hash)).first()
        if row is None:
            return None
        m = row._mapping
        # One statement for both link tables: (kind, id, position) rows.
        links = union_all(
            select(
                literal("A").label("kind"),
                user_accounts.c.account_id.label("id"),
                user_accounts.c.position.label("position"),
                accounts.c.status.label("status"),
            )
            .join(accounts, accounts.c.id == user_accounts.c.account_id)
            .where(user_accounts.c.user_id == m["id"]),
            select(literal("S"), user_stores.c.store_id, literal(0), literal("")).where(
                user_stores.c.user_id == m["id"]
            ),
        )
        rows = self.session.execute(links).all()
        account_rows = sorted((r for r in rows if r.kind == "A"), key=lambda r: (r.position, r.id))
        store_ids = [r.id for r in rows if r.kind == "S"]
        return UserRecord(
            m["id"],
            m["external_id"],
            m["client_type"],
            tuple(r.id for r in account_rows),
            frozenset(store_ids),
            m["supplier_id"],
            frozenset(r.id for r in account_rows if r.status != Status.ACTIVE),
        )

    def store(self, external_id: str | None) -> Ref | None:
        return self._memo("store", external_id, lambda: self._store(external_id))

    def _store(self, external_id: str | None) -> Ref | None:
        """The store with that external id, or the default store when None."""
        query = select(stores.c.id, stores.c.external_id)
        if external_id is None:
            query = query.where(stores.c.is_default).order_by(stores.c.id)
        else:
            query = query.where(stores.c.external_id == external_id)
        row = self.session.execute(query.limit(1)).first()
        return None if row is None else Ref(row.id, row.external_id)

    def store_external_id(self, store_id: int) -> str:
        return self._memo("store_external_id", store_id, lambda: self._store_external_id(store_id))

    def _store_external_id(self, store_id: int) -> str:
        return str(
            self.session.scalar(select(stores.c.external_id).where(stores.c.id == store_id))
        )

    def store_view(self, external_id: str) -> Ref | None:
        return self._memo("store_view", external_id, lambda: self._store_view(external_id))

    def _store_view(self, external_id: str) -> Ref | None:
        row = self.session.execute(
            select(store_views.c.id, store_views.c.external_id, store_views.c.store_id).where(
                store_views.c.external_id == external_id
            )
        ).first()
        return None if row is None else Ref(row.id, row.external_id, row.store_id)

    def first_store_view(self, store_id: int) -> int | None:
        return self._memo("first_store_view", store_id, lambda: self._first_store_view(store_id))

    def _first_store_view(self, store_id: int) -> int | None:
        return self.session.scalar(
            select(store_views.c.id)
            .where(store_views.c.store_id == store_id)
            .order_by(store_views.c.id)
            .limit(1)
        )

    def account(self, external_id: str) -> Ref | None:
        return self._memo("account", external_id, lambda: self._account(external_id))

    def _account(self, external_id: str) -> Ref | None:
        row = self.session.execute(
            select(accounts.c.id, accounts.c.external_id).where(
                accounts.c.external_id == external_id
            )
        ).first()
        return None if row is None else Ref(row.id, row.external_id)

    def user_acts_for(self, user_id: int, account_id: int) -> bool:
        return (
            self.session.scalar(
                select(user_accounts.c.user_id).where(
                    user_accounts.c.user_id == user_id, user_accounts.c.account_id == account_id
                )
            )
            is not None
        )

    def user(self, external_id: str) -> Ref | None:
        row = self.session.execute(
            select(users.c.id, users.c.external_id).where(users.c.external_id == external_id)
        ).first()
        return None if row is None else Ref(row.id, row.external_id)
