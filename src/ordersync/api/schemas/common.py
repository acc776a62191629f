"""Bodies every area shares: the base model, identifiers, errors, pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.alias_generators import to_camel

from ordersync.domain.history import HistoryEntry, change_dict
from ordersync.domain.paging import Page

ItemT = TypeVar("ItemT")
Quantity = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)]
# Identifiers: no control characters (PostgreSQL text cannot even hold NUL).
Id = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=128, strip_whitespace=True, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CustomFieldValueIn(Body):
    custom_field_id: Id
    custom_field_value: Any = None


def custom_field_map(values: list[CustomFieldValueIn] | None) -> dict[str, Any] | None:
    return None if values is None else {v.custom_field_id: v.custom_field_value for v in values}


class CustomFieldValues(Body):
    @field_validator("custom_fields", mode="after", check_fields=False)
    @classmethod
    def _each_field_once(
        cls, values: list[CustomFieldValueIn] | None
    ) -> list[CustomFieldValueIn] | None:
        ids = [v.custom_field_id for v in values or ()]
        if len(ids) != len(set(ids)):
            raise ValueError("the same customFieldId appears more than once")
        return values


class ErrorItemOut(Body):
    code: str
    field: str | None
    message: str


class ErrorOut(Body):
    status: int
    code: str
    message: str
    errors: list[ErrorItemOut]


class PageOut(Body, Generic[ItemT]):
    content: list[ItemT]
    page: int
    size: int
    total_elements: int
    total_pages: int

    @classmethod
    def of(cls, page: Page[Any], item: Callable[[Any], ItemT]) -> Self:
        return cls(
            content=[item(x) for x in page.items],
            page=page.page,
            size=page.size,
            total_elements=page.total,
            total_pages=page.total_pages,
        )


class ActorOut(Body):
    user_external_id: str | None
    client_type: str | None


class ChangeOut(Body):
    entity: str
    id: int | None
    field: str | None
    before: Any
    after: Any


class HistoryEntryOut(Body):
    at: datetime
    actor: ActorOut
    source: str
    job_id: str | None
    line_number: int | None
    request_id: str | None
    version_before: int
    version_after: int
    changes: list[ChangeOut]

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryOut:
        return cls(
            at=entry.at,
            actor=ActorOut(
                user_external_id=entry.actor.user_external_id,
                client_type=entry.actor.client_type,
            ),
            source=entry.source.value,
            job_id=entry.job_id,
            line_number=entry.line_number,
            request_id=entry.actor.request_id,
            version_before=entry.version_before,
            version_after=entry.version_after,
            changes=[ChangeOut(**change_dict(c)) for c in entry.changes],
        )


class HistoryPageOut(PageOut[HistoryEntryOut]):
    pass
