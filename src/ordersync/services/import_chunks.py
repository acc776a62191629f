"""Applying a chunk of staged CSV rows: parse, lock and load the orders they name, check and
apply each row in file order, write the changes and the rows' results in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ordersync.adapters.csv.reader import CsvRecord
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.catalog import CustomField
from ordersync.domain.imports import ImportJob, RowCode, RowOutcome, RowResult
from ordersync.rules.import_rows import ImportRow, RowParser
from ordersync.rules.internal_order_update import (
    Lookups,
    OrderState,
    RowRefused,
    apply_row,
    outcome_of,
)
from ordersync.services.order_context import utcnow


@dataclass(frozen=True)
class _Parsed:
    line_number: int
    row: ImportRow


def apply_chunk(
    uow: UnitOfWork,
    job: ImportJob,
    parser: RowParser,
    custom_fields: Sequence[CustomField],
    staged: Sequence[CsvRecord],
) -> list[RowOutcome]:
    """The chunk's outcomes, its changes written (or, in a dry run, kept aside for the
    file's later rows). The caller commits: changes and results land together."""
    outcomes: dict[int, RowOutcome] = {}
    parsed: list[_Parsed] = []
    for record in staged:
        result = parser.parse(record)
        if isinstance(result, RowOutcome):
            outcomes[record.line_number] = result
        else:
            parsed.append(_Parsed(record.line_number, result))
    orders = _load_orders(uow, job, parsed)
    by_reference = {lo.reference: (o, lo) for o in orders for lo in o.logistic_orders}
    by_external_id = {
        lo.external_id: (o, lo) for o in orders for lo in o.logistic_orders if lo.external_id
    }
    lookups = _lookups(uow, parsed, orders, custom_fields)
    now = utcnow()
    for item in parsed:
        row = item.row
        found = (
            by_reference.get(row.order_reference)
            if row.order_reference is not None
            else by_external_id.get(row.order_external_id or "")
        )
        if found is None:
            named = row.order_reference or row.order_external_id
            outcomes[item.line_number] = RowOutcome(
                item.line_number,
                RowResult.ERROR,
                RowCode.UNKNOWN_REFERENCE.value,
                f"No internal order {named}.",
            )
            continue
        order, lo = found
        try:
            apply_row(row, order, lo, lookups, now)
        except RowRefused as refusal:
            outcomes[item.line_number] = outcome_of(item.line_number, refusal)
            continue
        outcomes[item.line_number] = outcome_of(item.line_number, None)
        if lo.external_id:
            by_external_id[lo.external_id] = (order, lo)
    if job.dry_run:
        uow.imports.save_dry_run_orders(job.id, orders)
    else:
        uow.imports.write_orders(orders)
    return [outcomes[record.line_number] for record in staged]


def _load_orders(uow: UnitOfWork, job: ImportJob, parsed: Sequence[_Parsed]) -> list[OrderState]:
    references = {p.row.order_reference for p in parsed if p.row.order_reference}
    external_ids = {
        p.row.order_external_id
        for p in parsed
        if p.row.order_reference is None and p.row.order_external_id
    }
    orders = uow.imports.lock_orders(references, external_ids)
    if job.dry_run and orders:
        # What earlier rows of this dry run did stands in for the stored order.
        overlay = uow.imports.dry_run_orders(job.id, [o.id for o in orders])
        orders = [overlay.get(o.id, o) for o in orders]
    return orders


def _lookups(
    uow: UnitOfWork,
    parsed: Sequence[_Parsed],
    orders: Sequence[OrderState],
    custom_fields: Sequence[CustomField],
) -> Lookups:
    rows = [p.row for p in parsed]
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
    return Lookups(
        offer_prices={op.external_id: op for op in offer_prices},
        variants=uow.imports.variant_ids(variant_ids),
        customers=uow.imports.customers(
            {r.customer_external_id for r in rows if r.customer_external_id}
        ),
        custom_fields={d.external_id: d for d in custom_fields},
        default_addresses=uow.imports.default_addresses({o.account_id for o in orders}),
        logistic_external_ids=uow.imports.logistic_external_ids(
            {r.order_external_id for r in rows if r.order_external_id}
        ),
        line_external_ids=uow.imports.line_external_ids(
            {r.line_external_id for r in rows if r.line_external_id}
        ),
    )
