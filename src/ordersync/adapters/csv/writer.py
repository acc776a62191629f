"""Writing CSV for the import report and the export (SPEC §4): UTF-8, comma, CRLF, quotes
only where needed, every cell formula-neutralised, produced in chunks so memory stays flat
however many rows go out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from ordersync.adapters.csv.cells import neutralise_cell

# Bytes gathered before a chunk is handed on: large enough that a streamed response is not
# a write per row, small enough to be nothing next to a worker's memory.
CHUNK_SIZE = 64 * 1024


def csv_rows(header: Sequence[str], rows: Iterable[Sequence[str | None]]) -> Iterator[bytes]:
    """The header then each row as UTF-8 CSV (no BOM), in chunks of about CHUNK_SIZE bytes.
    None is written as an empty cell; cells that a spreadsheet would run as a formula get a
    leading `'`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_cell(name) for name in header])
    for row in rows:
        writer.writerow(["" if cell is None else neutralise_cell(cell) for cell in row])
        if buffer.tell() >= CHUNK_SIZE:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")
