"""Order history (SPEC §7): every write to an order leaves one entry saying when, who,
through what, and which fields changed from what to what."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, NamedTuple


class Source(StrEnum):
    API = "API"
    SYNC = "SYNC"
    IMPORT = "IMPORT"
    CPQ = "CPQ"
    BUNDLE = "BUNDLE"
    OPERATOR_PATCH = "OPERATOR_PATCH"


class Entity(StrEnum):
    ORDER = "ORDER"
    LOGISTIC_ORDER = "LOGISTIC_ORDER"
    LINE = "LINE"


@dataclass(frozen=True)
class Actor:
    """Who wrote: a user (by external id and client type) and the request it came with."""

    user_external_id: str | None
    client_type: str | None
    request_id: str | None = None


Change = tuple[Entity, int | None, str | None, Any, Any]
"""One field of one entity, from what to what: `(entity, id, field, before, after)`, stored
as that JSON array. Every write makes one per changed field (an import a million times a
file): a plain tuple, built by the interpreter in 30 ns where a list subclass with named
properties took 90 more (an import row makes eleven; stop 24); written by orjson in C, with
no key names repeated in every change (a 1,000-line synchronise's entry 230 KB instead of
460, an import row's about 500 bytes instead of 950; stop 21). Entries stored before stop 21
hold objects with those keys; the history repository reads both."""


def change_dict(change: Change) -> dict[str, Any]:
    """A change as the API shows it: `{entity, id, field, before, after}`."""
    entity, ident, field, before, after = change
    return {"entity": entity.value, "id": ident, "field": field, "before": before, "after": after}


class HistoryEntry(NamedTuple):
    """One per write, and one per changed row of an import (a named tuple: built in a
    third of a frozen dataclass's time, rules.quantities says why)."""

    order_id: int
    at: datetime
    actor: Actor
    source: Source
    version_before: int
    version_after: int
    changes: tuple[Change, ...]
    job_id: str | None = None
    line_number: int | None = None


# What the history follows, per entity (names of the aggregate's attributes; the CSV import's
# lighter states carry the same names). Bookkeeping (version, updated_at) is left out.
ORDER_FIELDS = (
    "external_id",
    "customer_user_id",
    "store_view_id",
    "is_validated",
    "validated_at",
    "custom_fields",
    "total_net",
    "total_tax",
    "total_gross",
    "product_count",
    "line_count",
    "cpq_transaction_id",
    "cpq_sync_status",
    "cpq_last_synced_at",
)
LOGISTIC_ORDER_FIELDS = (
    "external_id",
    "status",
    "shipping_address",
    "total_net",
    "total_tax",
    "total_gross",
)
LINE_FIELDS = (
    "external_id",
    "quantity",
    "net_unit_price",
    "gross_unit_price",
    "tax_rate",
    "tax_amount",
    "total_net",
    "total_gross",
    "variant_name",
    "variant_description",
    "classification_external_id",
    "custom_fields",
    "cpq_txn_line_number",
    "cpq_unit_price",
    "cpq_charges",
    "cpq_sync_info",
)
_MISSING = object()

Key = tuple[Entity, int | str]
Snapshot = dict[Key, dict[str, Any]]
# The columns written to each stored entity since a snapshot (a flush knows them).
Changed = dict[Key, tuple[str, ...]]


_AS_IS = frozenset({str, int, bool, type(None)})


def plain(value: Any) -> Any:
    """A value as the history stores it (JSON): money as decimal strings."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


_FOLLOWED = {
    Entity.ORDER: ORDER_FIELDS,
    Entity.LOGISTIC_ORDER: LOGISTIC_ORDER_FIELDS,
    Entity.LINE: LINE_FIELDS,
}
_SUMMARISED = {
    Entity.ORDER: (),
    Entity.LOGISTIC_ORDER: ("reference",),
    Entity.LINE: ("offer_price_external_id",),
}


def _values(entity: Entity, obj: Any) -> dict[str, Any]:
    """An entity's values as they are now. The aggregate keeps its values (its columns) in
    its own dictionary: a copy of it is one C-level operation, where reading each field
    would cost an attribute lookup (this runs for every line of every write). JSON values
    (custom fields, addresses, CPQ charges) are replaced by the code, never changed in place,
    so a shallow copy keeps the before."""
    own = getattr(obj, "__dict__", None)
    if own is not None:
        return dict(own)
    names = (*_FOLLOWED[entity], *_SUMMARISED[entity])
    return {name: getattr(obj, name) for name in names if hasattr(obj, name)}


def _key(entity: Entity, obj: Any) -> Key:
    # An entity this write creates has no id until it is written: its identity meanwhile.
    return entity, obj.id if obj.id is not None else f"new:{id(obj)}"


def snapshot(order: Any) -> Snapshot:
    """An order, its logistic orders and lines as they are now (diff picks the followed
    fields)."""
    taken: Snapshot = {_key(Entity.ORDER, order): _values(Entity.ORDER, order)}
    for lo in order.logistic_orders:
        taken[_key(Entity.LOGISTIC_ORDER, lo)] = _values(Entity.LOGISTIC_ORDER, lo)
        for line in lo.lines:
            taken[_key(Entity.LINE, line)] = _values(Entity.LINE, line)
    return taken


def _summary(entity: Entity, values: Mapping[str, Any]) -> dict[str, Any]:
    if entity is Entity.LINE:
        return {
            "externalId": values.get("external_id"),
            "offerPriceExternalId": values.get("offer_price_external_id"),
            "quantity": values.get("quantity"),
        }
    if entity is Entity.LOGISTIC_ORDER:
        return {"reference": values.get("reference"), "status": plain(values.get("status"))}
    return {}


def diff(before: Snapshot, after: Snapshot, written: Changed | None = None) -> list[Change]:
    """The changes from one snapshot to the other: one per changed followed field, one per
    entity added or removed (field None). Take `after` once the write is flushed, so that
    added entities carry their ids. `written`: the columns the flushes between the two
    wrote to each entity, when known; an entity they did not write is then left unread,
    and only the written of a written one's fields are compared (a repriced 1,000-line
    order: five fields of each line instead of sixteen)."""
    changes: list[Change] = []
    for key, old in before.items():
        entity, ident = key
        new = after.get(key)
        if new is None:
            changes.append((entity, _int(ident), None, _summary(entity, old), None))
            continue
        if written is None:
            if new == old:
                continue  # the common case on a big order: one comparison, no field loop
            names = _FOLLOWED[entity]
        else:
            columns = written.get(key)
            if columns is None:
                continue
            names = _followed_among(entity, columns)
        stored_id = _int(ident)
        for name in names:
            value = new.get(name, _MISSING)
            if value is _MISSING:
                continue
            previous = old.get(name, _MISSING)
            if previous != value:
                changes.append(
                    (
                        entity,
                        stored_id,
                        name,
                        # Money (most changes of a repriced order) straight to its string.
                        str(previous) if type(previous) is Decimal else plain(previous),
                        str(value) if type(value) is Decimal else plain(value),
                    )
                )
    for key, new in after.items():
        if key not in before:
            entity, ident = key
            changes.append((entity, _int(ident), None, None, _summary(entity, new)))
    return changes


_AMONG: dict[tuple[Entity, tuple[str, ...]], tuple[str, ...]] = {}


def _followed_among(entity: Entity, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The fields of `entity` the history follows that are among `columns`, in the followed
    order (remembered: a write sets the same few columns of each of its lines)."""
    key = (entity, columns)
    found = _AMONG.get(key)
    if found is None:
        if len(_AMONG) > 4096:
            _AMONG.clear()
        among = set(columns)
        found = _AMONG[key] = tuple(name for name in _FOLLOWED[entity] if name in among)
    return found


def _int(ident: int | str) -> int | None:
    return ident if isinstance(ident, int) else None
