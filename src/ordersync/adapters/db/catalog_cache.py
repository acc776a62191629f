"""What changes only when a data bundle is loaded — callers by key digest, tenant settings,
custom fields, accounts, stores and store views, operations, visibility, offer prices — read
once per process and dropped when the catalog version moves.

Every bundle load bumps `catalog_state.version` in its transaction, and its `access_version`
too when it touches what callers and their context are read from (settings, stores, views,
accounts, users, custom fields, operations): a load of offers alone leaves cached callers
valid. Units of work read both within a query they make anyway (the order they load carries
them as two more columns); when one differs from what cached values were read under, its
tier is dropped and the request runs again on fresh values (CatalogChanged). A unit of work
that used cached values and made no such query checks the versions before it ends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
_MISSING: Any = object()

# Bounds of the kinds that grow with the catalog or the callers (an entry is an immutable
# snapshot of ~1 KB for an offer price, less for the others).
MAX_OFFER_PRICES = 50_000
MAX_CALLERS = 10_000
_BOUNDED = {
    "offer_price": MAX_OFFER_PRICES,
    "offer_price_external_id": MAX_OFFER_PRICES,
    "variant_offer_prices": MAX_OFFER_PRICES,
    "caller": MAX_CALLERS,
    "user_by_key": MAX_CALLERS,  # unknown keys too: bounded, so guessing fills nothing
}


# What only the full catalog version invalidates; every other kind follows access_version.
OFFER_KINDS = frozenset({"offer_price", "offer_price_external_id", "variant_offer_prices"})


def tier_of(kind: str) -> str:
    return "offers" if kind in OFFER_KINDS else "access"


class CatalogCache:
    """Per process, shared by its threads. Values are immutable snapshots."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version: int | None = None
        self.access_version: int | None = None
        self.generation = 0  # bumped by every reset: a load started before it stores nothing
        self._kinds: dict[str, OrderedDict[Hashable, Any]] = {}

    def under(self, tier: str) -> int | None:
        """The version a tier's cached values were read under."""
        return self.version if tier == "offers" else self.access_version

    def observe(self, version: int, access_version: int) -> None:
        """The database's versions, as a query just read them: a tier whose version moved is
        dropped (every tier when access moved)."""
        if version == self.version and access_version == self.access_version:
            return
        with self._lock:
            if access_version != self.access_version:
                self._kinds = {}
            elif version != self.version:
                self._kinds = {k: v for k, v in self._kinds.items() if k not in OFFER_KINDS}
            else:
                return
            self.version = version
            self.access_version = access_version
            self.generation += 1

    def get(self, kind: str, key: Hashable) -> Any:
        """The cached value, or MISSING."""
        values = self._kinds.get(kind)
        if values is None:
            return _MISSING
        return values.get(key, _MISSING)

    def put(self, kind: str, key: Hashable, value: Any, generation: int) -> None:
        """Keep a value read from the database while `generation` was current."""
        with self._lock:
            if generation != self.generation:
                return  # read before a reset: it may be older than the catalog now
            values = self._kinds.setdefault(kind, OrderedDict())
            values[key] = value
            bound = _BOUNDED.get(kind)
            if bound is not None and len(values) > bound:
                values.popitem(last=False)

    def memo(self, kind: str, key: Hashable, load: Callable[[], T]) -> tuple[T, bool]:
        """The value and whether it came from the cache."""
        value = self.get(kind, key)
        if value is not _MISSING:
            return value, True
        generation = self.generation
        value = load()
        self.put(kind, key, value, generation)
        return value, False

    def memo_many(
        self, kind: str, keys: Collection[Hashable], load: Callable[[list[Any]], dict[Any, T]]
    ) -> tuple[dict[Any, T], bool]:
        """Values by key (absent keys are absent), loading the missing ones in one call;
        and whether any came from the cache."""
        found: dict[Any, T] = {}
        missing = []
        for key in keys:
            value = self.get(kind, key)
            if value is _MISSING:
                missing.append(key)
            elif value is not None:
                found[key] = value
        hit = len(missing) < len(keys)
        if missing:
            generation = self.generation
            loaded = load(missing)
            for key in missing:
                value = loaded.get(key)
                self.put(kind, key, value, generation)  # None: known not to exist
                if value is not None:
                    found[key] = value
        return found, hit


MISSING = _MISSING
