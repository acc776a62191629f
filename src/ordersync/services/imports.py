"""CSV bulk update of internal orders (SPEC §4): upload a file as a job, follow it, read its
report, export orders in the same layout."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any, BinaryIO

from ordersync.adapters.csv.cells import unescape_cell
from ordersync.adapters.csv.reader import CsvRecord, FileRefused, open_csv
from ordersync.adapters.db.import_repository import StagedRow
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller
from ordersync.domain.catalog import CustomFieldEntity
from ordersync.domain.errors import ErrorCode, FieldError, NotFound, Unprocessable
from ordersync.domain.imports import (
    ADDRESS_OPTIONAL,
    ADDRESS_REQUIRED,
    REPORT_COLUMNS,
    Column,
    ImportJob,
    RowCode,
)
from ordersync.domain.listing import LogisticOrderFilter
from ordersync.services.order_context import utcnow

UowFactory = Callable[[], UnitOfWork]
STAGE_BATCH = 5_000  # rows parsed and copied at a time: a few MB of cells in memory


@dataclass(frozen=True)
class _Keys:
    reference: int | None
    external_id: int | None
    line_id: int | None
    line_external_id: int | None

    @classmethod
    def of(cls, columns: Sequence[str]) -> _Keys:
        index = {name: i for i, name in enumerate(columns)}
        return cls(
            index.get(Column.ORDER_REFERENCE),
            index.get(Column.ORDER_EXTERNAL_ID),
            index.get(Column.LINE_ID),
            index.get(Column.LINE_EXTERNAL_ID),
        )


def _cell(cells: Sequence[str], i: int | None) -> str:
    """A cell as a staging key. Fix: a NUL (valid CSV; the row parser refuses it as F-E-012)
    reached PostgreSQL in the keys and the external-id look-up, which refuse NUL in text:
    the upload failed with a 500. It is replaced; the row still fails on its own."""
    return unescape_cell(_raw(cells, i)).strip().replace("\x00", "\ufffd")


def _raw(cells: Sequence[str], i: int | None) -> str:
    """A cell as it is in the file, empty when the row has none there."""
    return "" if i is None or i >= len(cells) else cells[i]


def _commercial_reference(reference: str) -> str:
    """The commercial order's reference in a logistic order's (`260-211-8089581-1` ->
    `260-211-8089581`): without a last `-` and digits, the reference itself."""
    head, dash, tail = reference.rpartition("-")
    return head if dash and tail.isdecimal() else reference


def submit_import(
    uow_factory: UowFactory,
    enqueue: Callable[[str, int], None],
    caller: Caller,
    stream: BinaryIO,
    *,
    file_name: str | None,
    dry_run: bool,
    partitions: int,
) -> ImportJob:
    """Read the file as a stream, refuse it whole (422) for a file-level problem, stage its
    rows and commit the job (PENDING) before the queue is told: the job is a row first."""
    job_id = uuid.uuid4().hex
    if stream.seekable():
        stream.seek(0)  # a request run again (the catalog moved) reads its upload again
    with uow_factory() as uow:
        custom_fields = [d.external_id for d in uow.catalog.custom_fields()]
        try:
            csv_file = open_csv(
                stream, known_columns=[c.value for c in Column], custom_field_columns=custom_fields
            )
            uow.imports.add_job(
                job_id,
                dry_run=dry_run,
                file_name=file_name,
                columns=csv_file.columns,
                partitions=partitions,
                created_by=caller.user_id,
                now=utcnow(),
            )
            keys = _Keys.of(csv_file.columns)
            total = 0
            records = iter(csv_file)
            with uow.imports.staging(job_id) as stage:
                while batch := tuple(islice(records, STAGE_BATCH)):
                    stage(_staged(uow, batch, keys, partitions))
                    total += len(batch)
        except FileRefused as exc:
            # The column when the problem is a column (its header is line 1 anyway).
            where = exc.column or (f"line {exc.line}" if exc.line else "file")
            raise Unprocessable(
                ErrorCode.IMPORT_FILE_INVALID,
                exc.message,
                [FieldError(exc.code.value, where, exc.message)],
            ) from None
        uow.imports.set_total(job_id, total)
        uow.imports.mark_repeated_lines(job_id, RowCode.DUPLICATE.value)
        uow.commit()
        job = uow.imports.job(job_id)
    assert job is not None
    enqueue(job_id, partitions)
    return job


def _staged(
    uow: UnitOfWork, records: Sequence[CsvRecord], keys: _Keys, partitions: int
) -> list[StagedRow]:
    """Each row with the order and line it names, and its partition: rows of one
    commercial order share one, so they apply in file order whatever runs in parallel. A
    row naming its logistic order only by external id is placed by the order that holds
    that external id now."""
    by_external_id = (
        uow.imports.commercial_references(
            {_cell(r.cells, keys.external_id) for r in records} - {""}
        )
        if keys.external_id is not None
        else {}
    )
    # A file's rows come order by order: a reference cell seen before in the batch is
    # placed as it was (its key and partition), without reading it again.
    placed: dict[str, tuple[str, int]] = {}
    staged: list[StagedRow] = []
    for record in records:
        cells = record.cells
        raw = _raw(cells, keys.reference)
        place = placed.get(raw) if raw else None
        if place is None:
            reference = _cell(cells, keys.reference)
            if reference:
                place = placed[raw] = _by_reference(reference, partitions)
            else:
                place = _by_external_id(_cell(cells, keys.external_id), by_external_id, partitions)
        staged.append(
            (
                record.line_number,
                place[1],
                place[0],
                _line_key(cells, keys),
                cells,
                record.extra_fields,
            )
        )
    return staged


def _by_reference(reference: str, partitions: int) -> tuple[str, int]:
    """The order key and partition of a row that names its logistic order by reference."""
    return reference, _partition(_commercial_reference(reference), partitions)


def _by_external_id(
    external_id: str, by_external_id: Mapping[str, str], partitions: int
) -> tuple[str, int]:
    """The order key and partition of a row that names its logistic order by external id
    alone: with the commercial order that holds it now, if any."""
    order_key = f"ext:{external_id}"
    return order_key, _partition(by_external_id.get(external_id, order_key), partitions)


def _partition(commercial: str, partitions: int) -> int:
    return zlib.crc32(commercial.encode()) % partitions


def _line_key(cells: Sequence[str], keys: _Keys) -> str:
    """The line the row names: `id:<Order Line Id>`, else `ext:<Order Line External
    Id>`, else empty. A line id of digits alone (nearly every row) is taken as it is."""
    raw = _raw(cells, keys.line_id)
    if raw.isdigit() and raw.isascii():
        return f"id:{raw}"
    line_id = _cell(cells, keys.line_id)
    if line_id:
        return f"id:{line_id}"
    line_external_id = _cell(cells, keys.line_external_id)
    return f"ext:{line_external_id}" if line_external_id else ""


def get_job(uow: UnitOfWork, job_id: str) -> ImportJob:
    with uow:
        job = uow.imports.job(job_id)
    if job is None:
        raise NotFound(ErrorCode.IMPORT_JOB_NOT_FOUND, f"No import job {job_id}.")
    return job


def job_report(
    uow_factory: UowFactory, job_id: str
) -> tuple[list[str], Iterator[list[str | None]]]:
    """The report's header and its rows (every input column, then line number, result, error
    code and message), streamed in file order."""
    job = get_job(uow_factory(), job_id)
    header = [*job.columns, *REPORT_COLUMNS]

    def lines() -> Iterator[list[str | None]]:
        with uow_factory() as uow:
            for line_number, cells, result, code, message in uow.imports.report(job_id):
                width = len(job.columns)
                padded = [*cells[:width], *[""] * (width - len(cells))]
                yield [*padded, str(line_number), result or "PENDING", code, message]

    return header, lines()


def _decimal(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _custom_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def export_orders(
    uow_factory: UowFactory, where: LogisticOrderFilter
) -> tuple[list[str], Iterator[list[str]]]:
    """The import's columns (and one per custom field), one row per order line of the
    matching internal orders: export, edit, import."""
    with uow_factory() as uow:
        definitions = uow.catalog.custom_fields()
    order_fields = sorted(
        d.external_id for d in definitions if d.entity is CustomFieldEntity.ORDER
    )
    line_fields = sorted(
        d.external_id for d in definitions if d.entity is CustomFieldEntity.ORDER_LINE
    )
    header = [c.value for c in Column] + order_fields + line_fields

    def lines() -> Iterator[list[str]]:
        with uow_factory() as uow:
            for r in uow.imports.export(where):
                address = r.shipping_address or {}
                values = {
                    Column.ORDER_EXTERNAL_ID: r.lo_external_id or "",
                    Column.ORDER_REFERENCE: r.reference,
                    Column.LINE_EXTERNAL_ID: r.external_id or "",
                    Column.LINE_ID: str(r.id),
                    Column.ACCOUNT_EXTERNAL_ID: r.account_external_id,
                    Column.SUPPLIER_EXTERNAL_ID: r.supplier_external_id,
                    Column.NET_UNIT_PRICE: _decimal(r.net_unit_price),
                    Column.QUANTITY: str(r.quantity),
                    Column.OFFER_PRICE_EXTERNAL_ID: r.offer_price_external_id,
                    Column.VARIANT_EXTERNAL_ID: r.variant_external_id,
                    Column.STATUS: r.status,
                    Column.GROSS_UNIT_PRICE: _decimal(r.gross_unit_price),
                    Column.CLASSIFICATION_EXTERNAL_ID: r.classification_external_id or "",
                    Column.CUSTOMER_EXTERNAL_ID: r.customer_external_id,
                    Column.TAX_AMOUNT: _decimal(r.tax_amount),
                    Column.VARIANT_NAME: r.variant_name,
                    Column.VARIANT_DESCRIPTION: r.variant_description or "",
                    Column.MARK_FOR_DELETION: "",
                }
                for column, key in (ADDRESS_REQUIRED | ADDRESS_OPTIONAL).items():
                    values[column] = address.get(key) or ""
                order_custom = r.order_custom_fields or {}
                line_custom = r.custom_fields or {}
                yield [
                    *(values[c] for c in Column),
                    *(_custom_value(order_custom.get(k)) for k in order_fields),
                    *(_custom_value(line_custom.get(k)) for k in line_fields),
                ]

    return header, lines()
