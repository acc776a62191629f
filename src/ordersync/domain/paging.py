"""Paging and sorting of lists: `page` from 0, `size` 1-100, `sort=field:direction`."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class PageRequest:
    page: int = 0
    size: int = DEFAULT_PAGE_SIZE
    sort: tuple[SortKey, ...] = ()

    @property
    def offset(self) -> int:
        return self.page * self.size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    size: int
    total: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.size) if self.size else 0


def parse_sort(
    entries: Iterable[str], allowed: Collection[str], default: tuple[SortKey, ...]
) -> tuple[SortKey, ...]:
    """`field:direction` entries, repeated or comma-separated. An entry naming an unknown
    field or direction is ignored, as the platform this API follows does; with nothing
    usable left, the default order applies."""
    keys: list[SortKey] = []
    for entry in entries:
        for part in entry.split(","):
            name, _, direction = part.strip().partition(":")
            direction = direction.strip().lower() or "asc"
            if name.strip() in allowed and direction in ("asc", "desc"):
                keys.append(SortKey(name.strip(), direction == "desc"))
    return tuple(keys) or default


def split_values(entries: Iterable[str] | None) -> list[str]:
    """Filter values given repeated (`a=1&a=2`) or comma-separated (`a=1,2`)."""
    return [v.strip() for entry in entries or () for v in entry.split(",") if v.strip()]
