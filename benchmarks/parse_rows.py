#!/usr/bin/env python
"""Row parsing throughput of the CSV import (issue 11), pure Python, no database.

Generates an import file of 200,000 rows (every seed column filled, as an export writes
them, plus an ORDER and an ORDER_LINE custom field; one row in fifty refused for a bad
quantity), then measures:

- parse: `RowParser.parse` over records already read (the hot function of the import);
- read: `open_csv` over the file's bytes, records out (the streaming reader);
- read + parse: both, as an import job does them.

The import's end-to-end target is 20,000 rows/s; parsing alone should be far above it
(well over 100,000 rows/s) so that the database work keeps the time.

Run:
    .venv/bin/python benchmarks/parse_rows.py
    .venv/bin/python benchmarks/parse_rows.py --rows 1000000
"""

from __future__ import annotations

import argparse
import gc
import io
import time
from collections.abc import Callable

from ordersync.adapters.csv import CsvFile, CsvRecord, csv_rows, open_csv
from ordersync.domain.catalog import CustomField, CustomFieldEntity, CustomFieldType
from ordersync.domain.imports import Column
from ordersync.rules.import_rows import ImportRow, RowParser

CUSTOM_FIELDS = {
    "CF-PO": CustomField(1, "CF-PO", CustomFieldEntity.ORDER, CustomFieldType.STRING),
    "CF-GIFT": CustomField(2, "CF-GIFT", CustomFieldEntity.ORDER_LINE, CustomFieldType.BOOLEAN),
}
COLUMNS = [column.value for column in Column] + list(CUSTOM_FIELDS)


def generated_row(n: int) -> list[str]:
    order = n // 20
    values = {
        Column.ORDER_EXTERNAL_ID: f"ERP-{order}",
        Column.ORDER_REFERENCE: f"260-211-{order:07d}-1",
        Column.LINE_EXTERNAL_ID: f"ERP-{order}-{n % 20}",
        Column.LINE_ID: str(n + 1),
        Column.ACCOUNT_EXTERNAL_ID: f"ACC-{order % 500}",
        Column.SUPPLIER_EXTERNAL_ID: f"SUP-{order % 40}",
        Column.NET_UNIT_PRICE: f"{10 + n % 90}.50",
        Column.QUANTITY: "abc" if n % 50 == 49 else str(1 + n % 30),
        Column.OFFER_PRICE_EXTERNAL_ID: f"OP-{n % 5000}",
        Column.VARIANT_EXTERNAL_ID: f"VAR-{n % 5000}",
        Column.STATUS: "DRAFT_ORDER",
        Column.GROSS_UNIT_PRICE: f"{12 + n % 90}.60",
        Column.CLASSIFICATION_EXTERNAL_ID: "CLS-TOOLS",
        Column.CUSTOMER_EXTERNAL_ID: f"USR-{order % 500}",
        Column.TAX_AMOUNT: "2.10",
        Column.VARIANT_NAME: f"Cordless drill 18V, variant {n % 5000}",
        Column.VARIANT_DESCRIPTION: "Two batteries, charger and case; 2-year warranty.",
        Column.ADDRESS_FULL_NAME: "Jane Doe",
        Column.ADDRESS_COUNTRY: "FR",
        Column.ADDRESS_STREET_NAME: "1 rue de la Paix",
        Column.ADDRESS_CITY: "Paris",
        Column.ADDRESS_ZIP_CODE: "75002",
        Column.ADDRESS_STATE: "",
        Column.ADDRESS_ADDITIONAL: "",
        Column.MARK_FOR_DELETION: "false",
    }
    return [values[column] for column in Column] + [f"PO-{order}", "yes"]


def timed(run: Callable[[], int]) -> tuple[int, float, float]:
    """What `run` returns, and the wall-clock and CPU seconds it took. On a shared machine
    the CPU figure says more about the code than the wall clock does."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def rate(rows: int, wall: float, cpu: float) -> str:
    return f"{rows / wall:>10,.0f} rows/s wall ({wall:5.2f} s), {rows / cpu:>10,.0f} per CPU s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    rows = parser.parse_args().rows

    records = [CsvRecord(n + 2, tuple(generated_row(n)), 0) for n in range(rows)]
    data = b"".join(csv_rows(COLUMNS, (record.cells for record in records)))

    # The records stay for the whole run; an import streams them. Frozen, the collector
    # does not walk them again and again, as it would not walk records already gone.
    gc.collect()
    gc.freeze()

    def parse() -> int:
        row_parser = RowParser(COLUMNS, CUSTOM_FIELDS)
        return sum(not isinstance(row_parser.parse(record), ImportRow) for record in records)

    def read() -> int:
        return sum(1 for _ in open_file())

    def read_and_parse() -> int:
        csv_file = open_file()
        row_parser = RowParser(csv_file.columns, CUSTOM_FIELDS)
        return sum(not isinstance(row_parser.parse(record), ImportRow) for record in csv_file)

    def open_file() -> CsvFile:
        return open_csv(
            io.BytesIO(data),
            known_columns=[column.value for column in Column],
            custom_field_columns=CUSTOM_FIELDS,
        )

    refused, parse_wall, parse_cpu = timed(parse)
    _, read_wall, read_cpu = timed(read)
    _, both_wall, both_cpu = timed(read_and_parse)

    print(f"{rows:,} rows, {len(COLUMNS)} columns, {len(data) / 2**20:.1f} MiB, {refused} refused")
    print(f"parse         {rate(rows, parse_wall, parse_cpu)}")
    print(f"read          {rate(rows, read_wall, read_cpu)}")
    print(f"read + parse  {rate(rows, both_wall, both_cpu)}")
    print(
        f"parse_rows: rows={rows} rows_per_s={rows / parse_wall:.0f} "
        f"rows_per_cpu_s={rows / parse_cpu:.0f}"
    )


if __name__ == "__main__":
    main()
