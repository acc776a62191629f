"""CSV written for reports and exports: its format, formula neutralising, the round trip
through the import's reader, and chunked output that keeps memory flat."""

from __future__ import annotations

import io
import itertools

import pytest

from ordersync.adapters.csv import csv_rows, neutralise_cell, open_csv, unescape_cell
from ordersync.adapters.csv.writer import CHUNK_SIZE


def written(header: list[str], rows: list[list[str | None]]) -> bytes:
    return b"".join(csv_rows(header, rows))


def test_rows_are_utf8_comma_separated_crlf_with_quotes_only_where_needed() -> None:
    data = written(
        ["Order Reference", "Variant Name", "Tax Amount"],
        [["LO-1", "Perceuse \u00e9lectrique", None], ["LO-2", 'Drill "pro", 18V\nblue', "2.10"]],
    )

    assert data == (
        b"Order Reference,Variant Name,Tax Amount\r\n"
        b"LO-1,Perceuse \xc3\xa9lectrique,\r\n"
        b'LO-2,"Drill ""pro"", 18V\nblue",2.10\r\n'
    )
    assert not data.startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 1 23", "'+33 1 23"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(cell: str, safe: str) -> None:
    assert neutralise_cell(cell) == safe


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "plain", "'plain", "", "'", "=", "''=x"]
)
def test_the_spreadsheet_escape_round_trips(value: str) -> None:
    assert unescape_cell(neutralise_cell(value)) == value


def test_the_one_value_that_does_not_round_trip_is_an_escape_written_by_hand() -> None:
    # Documented in cells.py: "'=x" is written as is and read back as "=x".
    assert neutralise_cell("'=x") == "'=x"
    assert unescape_cell("'=x") == "=x"


def test_an_export_read_back_by_the_import_gives_the_same_values() -> None:
    header = ["Order Reference", "Variant Name", "Variant Description"]
    rows: list[list[str | None]] = [
        ["LO-1", "=cmd|' /C calc'!A0", 'line one\nline two, with "quotes"'],
        ["LO-2", "-40% promo", "@home; +fast"],
    ]

    csv_file = open_csv(
        io.BytesIO(written(header, rows)), known_columns=header, custom_field_columns=()
    )

    assert csv_file.columns == tuple(header)
    assert [[unescape_cell(cell) for cell in record.cells] for record in csv_file] == rows


def test_output_comes_in_chunks_of_about_64_kib() -> None:
    rows = ([f"LO-{n}", "x" * 90] for n in range(5000))

    chunks = list(csv_rows(["Order Reference", "Variant Name"], rows))

    assert len(chunks) > 5
    assert all(CHUNK_SIZE <= len(chunk) < CHUNK_SIZE + 200 for chunk in chunks[:-1])
    assert b"".join(chunks).count(b"\r\n") == 5001


def test_rows_are_written_as_they_come_so_memory_stays_flat() -> None:
    endless = ([f"LO-{n}", "x" * 90] for n in itertools.count())

    chunks = csv_rows(["Order Reference", "Variant Name"], endless)
    first, second = next(chunks), next(chunks)

    assert first.startswith(b"Order Reference,Variant Name\r\nLO-0,")
    assert len(first) < CHUNK_SIZE + 200 and len(second) < CHUNK_SIZE + 200


def test_a_header_with_no_rows_is_one_line() -> None:
    assert written(["Order Reference"], []) == b"Order Reference\r\n"
