"""CSV files in and out: the streaming reader of import files, the writer of reports and
exports, and the spreadsheet escape both share."""

from ordersync.adapters.csv.cells import neutralise_cell, unescape_cell
from ordersync.adapters.csv.reader import CsvFile, CsvRecord, FileRefused, open_csv
from ordersync.adapters.csv.writer import csv_rows

__all__ = [
    "CsvFile",
    "CsvRecord",
    "FileRefused",
    "csv_rows",
    "neutralise_cell",
    "open_csv",
    "unescape_cell",
]
