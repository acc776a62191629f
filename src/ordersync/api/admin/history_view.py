"""An order's history as the order page shows it, when the history service is there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.paging import PageRequest

HISTORY_MODULE = "ordersync.services.history"
PAGE_SIZE = 50
CHANGE_FIELDS = ("entity", "id", "field", "before", "after")


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
    available: bool
    rows: list[HistoryRow] = field(default_factory=list)
    page: int = 0
    total_pages: int = 0
    total: int = 0


def order_history_view(
    uow_factory: Callable[[], UnitOfWork], reference: str, page: int
) -> HistoryView:
    """A page of the order's history, newest first; not available while the deployment has
    no history service."""
    try:
        from ordersync.services.history import (  # type: ignore[import-not-found,unused-ignore]
            order_history,
        )
    except ModuleNotFoundError as exc:
        if exc.name != HISTORY_MODULE:
            raise  # the module is there but broken: that is a bug, not a missing feature
        return HistoryView(available=False)
    result = order_history(uow_factory(), reference, PageRequest(page, PAGE_SIZE))
    return HistoryView(
        available=True,
        rows=[history_row(entry) for entry in result.items],
        page=result.page,
        total_pages=result.total_pages,
        total=result.total,
    )


def _value(value: Any) -> Any:
    return getattr(value, "value", value)  # an enum member shows as its value


def history_row(entry: Any) -> HistoryRow:
    """An entry whose actor is flat (`actor_user_external_id`) or nested (`actor.…`), and
    whose changes are dicts or objects: the page reads the names SPEC §7 gives them."""
    actor = getattr(entry, "actor", None)

    def actor_field(flat: str, nested: str) -> Any:
        if hasattr(entry, flat):
            return getattr(entry, flat)
        return getattr(actor, nested, None)

    changes = []
    for change in entry.changes:
        data = (
            change
            if isinstance(change, dict)
            else {name: getattr(change, name, None) for name in CHANGE_FIELDS}
        )
        changes.append(
            ChangeRow(
                entity=str(_value(data.get("entity"))),
                id=data.get("id"),
                field=data.get("field"),
                before=data.get("before"),
                after=data.get("after"),
            )
        )
    return HistoryRow(
        at=entry.at,
        source=str(_value(entry.source)),
        job_id=getattr(entry, "job_id", None),
        line_number=getattr(entry, "line_number", None),
        actor=actor_field("actor_user_external_id", "user_external_id"),
        client_type=_value(actor_field("actor_client_type", "client_type")),
        request_id=actor_field("request_id", "request_id"),
        version_before=getattr(entry, "version_before", None),
        version_after=getattr(entry, "version_after", None),
        changes=changes,
    )
