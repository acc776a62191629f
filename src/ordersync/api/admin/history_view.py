"""An order's history as the order page shows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.history import HistoryEntry
from ordersync.domain.paging import PageRequest
from ordersync.services.history import order_history

PAGE_SIZE = 50


@dataclass(frozen=True)
class ChangeRow:
    entity: str
    id: Any
    field: str | None
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    source: str
    job_id: str | None
    line_number: int | None
    actor: str | None
    client_type: str | None
    request_id: str | None
    version_before: int | None
    version_after: int | None
    changes: list[ChangeRow]


@dataclass(frozen=True)
class HistoryView:
    rows: list[HistoryRow] = field(default_factory=list)
    page: int = 0
    total_pages: int = 0
    total: int = 0


def order_history_view(
    uow_factory: Callable[[], UnitOfWork], reference: str, page: int
) -> HistoryView:
    """A page of the order's history, newest first."""
    result = order_history(uow_factory(), reference, PageRequest(page, PAGE_SIZE))
    return HistoryView(
        rows=[history_row(entry) for entry in result.items],
        page=result.page,
        total_pages=result.total_pages,
        total=result.total,
    )


def history_row(entry: HistoryEntry) -> HistoryRow:
    return HistoryRow(
        at=entry.at,
        source=entry.source.value,
        job_id=entry.job_id,
        line_number=entry.line_number,
        actor=entry.actor.user_external_id,
        client_type=entry.actor.client_type,
        request_id=entry.actor.request_id,
        version_before=entry.version_before,
        version_after=entry.version_after,
        changes=[
            ChangeRow(entity.value, ident, field, before, after)
            for entity, ident, field, before, after in entry.changes
        ],
    )
