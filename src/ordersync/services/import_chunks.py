"""Applying a chunk of staged CSV rows: parse, lock and load the orders they name, check and
apply each row in file order (`apply_chunk`), then write the changes (`write_chunk`); the
caller writes the rows' results and commits, all in the transaction that took the locks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from itertools import compress
from operator import attrgetter, ne
from typing import Any

from ordersync.adapters.csv.reader import CsvRecord
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.catalog import CustomField
from ordersync.domain.history import (
    LINE_FIELDS,
    LOGISTIC_ORDER_FIELDS,
    ORDER_FIELDS,
    Actor,
    Change,
    Entity,
    HistoryEntry,
    Source,
    plain,
)
from ordersync.domain.imports import ImportJob, RowCode, RowOutcome, RowResult
from ordersync.rules.import_rows import ImportRow, RowParser
from ordersync.rules.internal_order_update import (
    LineState,
    LogisticOrderState,
    Lookups,
    OrderState,
    RowRefused,
    apply_row,
    outcome_of,
)
from ordersync.services.order_context import utcnow


@dataclass(frozen=True)
class AppliedChunk:
    """A chunk checked and applied in memory: its rows, the outcomes of those refused in file
    order (the others succeeded), the orders it loaded (and locked) as the rows left them,
    and the history of the rows that changed something. Nothing is written yet."""

    staged: Sequence[CsvRecord]
    refused: list[RowOutcome]
    orders: list[OrderState]
    history: list[HistoryEntry]


def apply_chunk(
    uow: UnitOfWork,
    job: ImportJob,
    parser: RowParser,
    custom_fields: Sequence[CustomField],
    staged: Sequence[CsvRecord],
    actor: Actor,
) -> AppliedChunk:
    """The chunk's rows checked and applied to its orders, locked and loaded in `uow`'s
    transaction, which `write_chunk` then writes to."""
    refused: dict[int, RowOutcome] = {}  # by line number
    parsed: list[ImportRow] = []  # each with its line number
    for record in staged:
        result = parser.parse(record)
        if isinstance(result, RowOutcome):
            refused[record.line_number] = result
        else:
            parsed.append(result)
    orders = _load_orders(uow, job, parsed)
    by_reference = {lo.reference: (o, lo) for o in orders for lo in o.logistic_orders}
    by_external_id = {
        lo.external_id: (o, lo) for o in orders for lo in o.logistic_orders if lo.external_id
    }
    lookups = _lookups(uow, parsed, orders, custom_fields)
    now = utcnow()
    history: list[HistoryEntry] = []
    recording = uow.history_enabled and not job.dry_run
    # The logistic order the last applied row left, and its and its order's followed values
    # then: the next row of the same logistic order starts from them (read once a row, not
    # twice: the file's rows come order by order).
    left: tuple[LogisticOrderState | None, _Headers | None] = (None, None)
    for row in parsed:
        found = (
            by_reference.get(row.order_reference)
            if row.order_reference is not None
            else by_external_id.get(row.order_external_id or "")
        )
        if found is None:
            named = row.order_reference or row.order_external_id
            refused[row.line_number] = RowOutcome(
                row.line_number,
                RowResult.ERROR,
                RowCode.UNKNOWN_REFERENCE.value,
                f"No internal order {named}.",
            )
            continue
        order, lo = found
        before = (
            _row_state(order, lo, row, left[1] if left[0] is lo else None) if recording else None
        )
        try:
            changed = apply_row(row, order, lo, lookups, now)
        except RowRefused as refusal:
            refused[row.line_number] = outcome_of(row.line_number, refusal)
            left = (None, None)
            continue
        if changed and before is not None:
            after = _row_state(order, lo, row, None)
            left = (lo, after[0])
            changes = _row_changes(order, lo, before, after)
            if changes:
                history.append(
                    HistoryEntry(
                        order.id,
                        now,
                        actor,
                        Source.IMPORT,
                        order.version,
                        order.version + 1,  # the chunk's write bumps it once
                        tuple(changes),
                        job.id,
                        row.line_number,
                    )
                )
        elif before is not None:
            left = (lo, before[0])
        if lo.external_id:
            by_external_id[lo.external_id] = (order, lo)
    return AppliedChunk(staged, sorted(refused.values()), orders, history)


def write_chunk(uow: UnitOfWork, job: ImportJob, chunk: AppliedChunk) -> None:
    """The chunk's changes and history (in a dry run, its orders kept aside for the file's
    later rows). The caller records the outcomes and commits: changes and results land
    together."""
    if job.dry_run:
        uow.imports.save_dry_run_orders(job.id, chunk.orders)
    else:
        uow.imports.write_orders(chunk.orders)
        uow.imports.add_history(chunk.history)


_Headers = tuple[tuple[Any, ...], tuple[Any, ...]]  # the order's and the logistic order's
_RowState = tuple[_Headers, LineState | None, tuple[Any, ...] | None]


def _row_state(
    order: OrderState, lo: LogisticOrderState, row: ImportRow, headers: _Headers | None
) -> _RowState:
    """What one row can change — the order's header, its logistic order's (`headers`, when
    known as they are now), and the line it names (or adds) — as tuples of the followed
    fields (history.*_FIELDS), one attrgetter each: taken twice per row, a million times a
    file. Containers (custom fields, the address) are not copied: the import's rules
    replace them whole, never change them in place, so the value kept is the value before
    the row."""
    line = (
        lo.line(row.line_id)
        if row.line_id is not None
        else lo.line_with_external_id(row.line_external_id or "")
    )
    return (
        headers if headers is not None else (_ORDER.read(order), _LOGISTIC_ORDER.read(lo)),
        line,
        None if line is None else _LINE.read(line),
    )


def _row_changes(
    order: OrderState, lo: LogisticOrderState, before: _RowState, after: _RowState
) -> list[Change]:
    """The changes between two states of a row (history.diff's, field for field)."""
    changes: list[Change] = []
    (order_before, lo_before), line_before, values_before = before
    (order_after, lo_after), line_after, values_after = after
    _changed_fields(changes, Entity.ORDER, order.id, _ORDER, order_before, order_after)
    _changed_fields(changes, Entity.LOGISTIC_ORDER, lo.id, _LOGISTIC_ORDER, lo_before, lo_after)
    if line_before is not None and values_before is not None:
        if line_after is None:
            summary = _line_summary(line_before, values_before)
            changes.append((Entity.LINE, line_before.id, None, summary, None))
        elif values_after is not None:
            _changed_fields(
                changes, Entity.LINE, line_before.id, _LINE, values_before, values_after
            )
    elif line_after is not None and values_after is not None:
        summary = _line_summary(line_after, values_after)
        changes.append((Entity.LINE, line_after.id, None, None, summary))
    return changes


def _changed_fields(
    changes: list[Change],
    entity: Entity,
    ident: int | None,
    followed: _Fields,
    old: tuple[Any, ...],
    new: tuple[Any, ...],
) -> None:
    if old == new:
        return  # the common case for the order's header: one comparison
    names, stored = followed.names, followed.stored
    # Only the fields that differ are visited: found by comparing the tuples in C.
    for i in compress(followed.positions, map(ne, old, new)):
        convert = stored[i]
        if convert is None:
            changes.append((entity, ident, names[i], old[i], new[i]))
        else:
            changes.append((entity, ident, names[i], convert(old[i]), convert(new[i])))


def _line_summary(line: LineState, values: tuple[Any, ...]) -> dict[str, Any]:
    """history's summary of a line added or removed, from the line's values then."""
    return {
        "externalId": values[_LINE_EXTERNAL_ID],
        "offerPriceExternalId": line.offer_price_external_id,
        "quantity": values[_LINE_QUANTITY],
    }


# How a field's value is stored in the history, by the type the state declares: money as
# its decimal string (str, a C call), plain values as they are (no call at all), anything
# else through history.plain. Equal to plain(value) for every value of the declared type.
_PLAIN_ANNOTATIONS = frozenset({"int", "bool", "str", "str | None", "int | None"})


def _stored_as(annotation: str) -> Callable[[Any], Any] | None:
    if annotation == "Decimal":
        return str
    return None if annotation in _PLAIN_ANNOTATIONS else plain


class _Fields:
    """The followed fields (history.*_FIELDS) an import state has, read at once, and how
    each is stored (None: as it is)."""

    def __init__(self, state: type, followed: Sequence[str]) -> None:
        declared = {f.name: str(f.type) for f in fields(state)}
        self.names = tuple(name for name in followed if name in declared)
        self.positions = range(len(self.names))
        self.read = attrgetter(*self.names)
        self.stored = tuple(_stored_as(declared[name]) for name in self.names)


_ORDER = _Fields(OrderState, ORDER_FIELDS)
_LOGISTIC_ORDER = _Fields(LogisticOrderState, LOGISTIC_ORDER_FIELDS)
_LINE = _Fields(LineState, LINE_FIELDS)
_LINE_EXTERNAL_ID = _LINE.names.index("external_id")
_LINE_QUANTITY = _LINE.names.index("quantity")


def _load_orders(uow: UnitOfWork, job: ImportJob, parsed: Sequence[ImportRow]) -> list[OrderState]:
    references = {r.order_reference for r in parsed if r.order_reference}
    external_ids = {
        r.order_external_id for r in parsed if r.order_reference is None and r.order_external_id
    }
    orders = uow.imports.lock_orders(references, external_ids)
    if job.dry_run and orders:
        # What earlier rows of this dry run did stands in for the stored order.
        overlay = uow.imports.dry_run_orders(job.id, [o.id for o in orders])
        orders = [overlay.get(o.id, o) for o in orders]
    return orders


def _lookups(
    uow: UnitOfWork,
    rows: Sequence[ImportRow],
    orders: Sequence[OrderState],
    custom_fields: Sequence[CustomField],
) -> Lookups:
    offer_ids = {r.offer_price_external_id for r in rows if r.offer_price_external_id}
    variant_ids = {r.variant_external_id for r in rows if r.variant_external_id}
    offer_prices = uow.catalog.offer_prices(
        external_ids=offer_ids,
        # A line named by variant and price alone takes the variant's offer of the order's
        # supplier: load those too.
        variant_external_ids={
            r.variant_external_id
            for r in rows
            if r.variant_external_id and not r.offer_price_external_id
        },
    )
    # Fix: in a dry run, the orders in hand are as earlier chunks left them (lines created,
    # external ids set, lines deleted), which the stored rows do not show; so the external
    # ids of the orders in hand are read from them, and only the others' from the database
    # (a dry run let a row take an external id a line created by an earlier chunk held).
    in_hand = [lo for o in orders for lo in o.logistic_orders]
    in_hand_ids = [lo.id for lo in in_hand]
    logistic_external_ids = uow.imports.logistic_external_ids(
        {r.order_external_id for r in rows if r.order_external_id}, outside=in_hand_ids
    )
    line_external_ids = uow.imports.line_external_ids(
        {r.line_external_id for r in rows if r.line_external_id}, outside=in_hand_ids
    )
    for lo in in_hand:
        if lo.external_id:
            logistic_external_ids[lo.external_id] = lo.id
        for line in lo.lines:
            if line.external_id:
                line_external_ids[line.external_id] = line.id
    return Lookups(
        offer_prices={op.external_id: op for op in offer_prices},
        variants=uow.imports.variant_ids(variant_ids),
        customers=uow.imports.customers(
            {r.customer_external_id for r in rows if r.customer_external_id}
        ),
        custom_fields={d.external_id: d for d in custom_fields},
        # Read only for a chunk with a row that gives an address (what it completes).
        default_addresses=uow.imports.default_addresses(
            {o.account_id for o in orders} if any(r.address for r in rows) else ()
        ),
        logistic_external_ids=logistic_external_ids,
        line_external_ids=line_external_ids,
    )
