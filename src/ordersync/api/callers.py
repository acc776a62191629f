"""Resolving a request's caller from its access headers, remembered per catalog version: a
caller seen before costs no query and no thread."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ordersync.adapters.db.catalog_cache import MISSING, CatalogCache
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.api_keys import hash_api_key
from ordersync.domain.errors import CatalogChanged
from ordersync.services.access import AccessHeaders, resolve_caller

# The headers that name the caller, in AccessHeaders' order.
ACCESS_HEADERS = (
    b"dj-client",
    b"dj-api-key",
    b"dj-store",
    b"dj-store-view",
    b"customer-account-id",
)

RETRIES = 2  # bundle loads racing one resolution; the last try is not caught
Key = tuple[str | None, str | None, str | None, str | None, str | None]


def access_headers(headers: Mapping[bytes, bytes]) -> AccessHeaders:
    """The access headers as text (RequestChecks has refused what is not UTF-8)."""
    values = (headers.get(name) for name in ACCESS_HEADERS)
    return AccessHeaders(*(None if v is None else v.decode() for v in values))


def _key(access: AccessHeaders) -> Key:
    # The key itself is never kept, only its digest.
    digest = hash_api_key(access.api_key) if access.api_key else None
    client = access.client.strip().upper() if access.client else None
    return client, digest, access.store, access.store_view, access.customer_account


class Callers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], cache: CatalogCache) -> None:
        self.uow_factory = uow_factory
        self.cache = cache

    def cached(self, access: AccessHeaders) -> tuple[Caller, int | None] | None:
        """The caller and the access version it was remembered under, if it was."""
        under = self.cache.access_version
        caller = self.cache.get("caller", _key(access))
        return None if caller is MISSING or under is None else (caller, under)

    def resolve(self, access: AccessHeaders) -> Caller:
        """From the database (and the cached catalog entities it names); remembered for
        the next request. Raises what resolve_caller raises (401, 403)."""
        for _ in range(RETRIES):
            generation = self.cache.generation
            try:
                caller = resolve_caller(self.uow_factory(), access)
            except CatalogChanged:
                continue  # the cache is dropped already: read again
            self.cache.put("caller", _key(access), caller, generation)
            return caller
        return resolve_caller(self.uow_factory(), access)
