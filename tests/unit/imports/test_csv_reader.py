"""The import file as the streaming reader sees it: encoding, delimiter, header checks,
quoting, line numbers and the refusals of a whole file. No database."""

from __future__ import annotations

import io
from collections.abc import Iterable

import pytest

from ordersync.adapters.csv import CsvFile, CsvRecord, FileRefused, open_csv
from ordersync.domain.imports import Column, FileCode

SEED = [column.value for column in Column]
BOM = b"\xef\xbb\xbf"


class OneByteAtATime(io.BytesIO):
    """A stream that never gives more than one byte per read, as a slow upload might."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(1)


def opened(data: bytes, *, custom: Iterable[str] = (), stream: type[io.BytesIO] = io.BytesIO):
    return open_csv(stream(data), known_columns=SEED, custom_field_columns=list(custom))


def records(data: bytes, **options: object) -> list[CsvRecord]:
    return list(opened(data, **options))  # type: ignore[arg-type]


def refusal(data: bytes, **options: object) -> FileRefused:
    with pytest.raises(FileRefused) as raised:
        records(data, **options)
    return raised.value


HEADER = b"Order Reference,Order Line Id,Order Line Quantity\n"


@pytest.mark.parametrize("prefix", [b"", BOM], ids=["no BOM", "BOM"])
def test_a_file_reads_the_same_with_or_without_a_bom(prefix: bytes) -> None:
    csv_file = opened(prefix + HEADER + b"LO-1,5,3\n")

    assert csv_file.columns == ("Order Reference", "Order Line Id", "Order Line Quantity")
    assert list(csv_file) == [CsvRecord(2, ("LO-1", "5", "3"), 0)]


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_the_delimiter_is_the_one_the_header_uses(delimiter: str) -> None:
    data = f"Order Reference{delimiter}Variant Name\nLO-1{delimiter}Drill, 18V; blue\n"
    data = data.replace("Drill, 18V; blue", '"Drill, 18V; blue"')

    csv_file = opened(data.encode())

    assert csv_file.delimiter == delimiter
    assert list(csv_file) == [CsvRecord(2, ("LO-1", "Drill, 18V; blue"), 0)]


def test_a_header_with_both_delimiters_uses_the_one_that_names_more_columns() -> None:
    semicolons = b"Order Reference;Variant Name;Order Line Id\nLO-1;a,b;5\n"
    commas = b"Order Reference,Variant Name,Order Line Id;x\n"

    assert opened(semicolons).delimiter == ";"
    assert records(semicolons) == [CsvRecord(2, ("LO-1", "a,b", "5"), 0)]
    assert refusal(commas).column == "Order Line Id;x"


def test_a_delimiter_inside_quotes_in_the_header_does_not_count() -> None:
    csv_file = opened(b'"Order Reference";"Variant Name"\nLO-1;"x,y"\n')

    assert csv_file.delimiter == ";"
    assert csv_file.columns == ("Order Reference", "Variant Name")


def test_a_header_of_one_column_has_no_delimiter_to_find() -> None:
    csv_file = opened(b"Order Reference\nLO-1\n")

    assert csv_file.columns == ("Order Reference",)
    assert list(csv_file) == [CsvRecord(2, ("LO-1",), 0)]


def test_columns_come_in_any_order_and_names_are_trimmed() -> None:
    csv_file = opened(b" Order Line Quantity ;Order Reference\r\n3;LO-1\r\n")

    assert csv_file.columns == ("Order Line Quantity", "Order Reference")
    assert list(csv_file) == [CsvRecord(2, ("3", "LO-1"), 0)]


def test_quoted_delimiters_quotes_and_newlines_are_values_and_numbers_stay_record_numbers() -> (
    None
):
    data = (
        HEADER
        + b'"LO-1","5","3"\n'
        + b'LO-2,"6\nsecond line\r\nthird line",1\n'
        + b'"LO-3 ""quoted"", with comma",7,2\n'
    )

    assert records(data) == [
        CsvRecord(2, ("LO-1", "5", "3"), 0),
        CsvRecord(3, ("LO-2", "6\nsecond line\r\nthird line", "1"), 0),
        CsvRecord(4, ('LO-3 "quoted", with comma', "7", "2"), 0),
    ]


@pytest.mark.parametrize("data", [b"", BOM, b"\n\n", b"  \r\n \t\n", BOM + b"\r\n"], ids=repr)
def test_a_file_with_no_header_is_refused_as_empty(data: bytes) -> None:
    refused = refusal(data)

    assert refused.code is FileCode.EMPTY


@pytest.mark.parametrize("data", [HEADER, HEADER.rstrip(b"\n"), BOM + HEADER + b"\n\n"])
def test_a_header_with_no_rows_is_a_file_of_no_records(data: bytes) -> None:
    csv_file = opened(data)

    assert len(csv_file.columns) == 3
    assert list(csv_file) == []


def test_blank_lines_are_no_records_and_a_blank_spreadsheet_row_keeps_its_number() -> None:
    data = HEADER + b"\nLO-1,5,3\n\r\n,,\n , ,\nLO-2,6,1"

    assert records(data) == [
        CsvRecord(2, ("LO-1", "5", "3"), 0),
        CsvRecord(5, ("LO-2", "6", "1"), 0),
    ]


def test_blank_lines_before_the_header_are_skipped() -> None:
    assert opened(b"\n\n" + HEADER).columns[0] == "Order Reference"


def test_an_unknown_column_is_refused_by_name() -> None:
    refused = refusal(b"Order Reference,Colour\n")

    assert refused.code is FileCode.UNKNOWN_COLUMN
    assert refused.column == "Colour"
    assert "'Colour'" in refused.message
    assert "did you mean" not in refused.message


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("order reference", "Order Reference"),
        ("OrderLineId", "Order Line Id"),
        ("Shipping Address Additional", "Shipping Address (Additional)"),
        ("Order Refrence", "Order Reference"),
    ],
)
def test_a_column_close_to_a_seed_column_gets_a_suggestion(written: str, meant: str) -> None:
    refused = refusal(f"Order Line Quantity,{written}\n".encode())

    assert refused.code is FileCode.UNKNOWN_COLUMN
    assert refused.column == written
    assert f"did you mean {meant!r}?" in refused.message


def test_a_header_name_split_by_a_quoted_newline_is_unknown_with_a_suggestion() -> None:
    refused = refusal(b'Order Reference;"Variant\nName"\nLO-1;x\n')

    assert refused.column == "Variant\nName"
    assert "did you mean 'Variant Name'?" in refused.message


def test_a_custom_field_column_is_known_by_its_external_id() -> None:
    csv_file = opened(b"Order Reference,CF-PO\nLO-1,PO-9\n", custom=["CF-PO"])

    assert list(csv_file) == [CsvRecord(2, ("LO-1", "PO-9"), 0)]


def test_a_duplicated_column_is_refused_by_name() -> None:
    refused = refusal(b"Order Reference,Order Line Id,Order Reference\n")

    assert refused.code is FileCode.DUPLICATE_COLUMN
    assert refused.column == "Order Reference"
    assert "columns 1 and 3" in refused.message


def test_a_column_with_no_name_is_refused_by_position() -> None:
    refused = refusal(b"Order Reference,Order Line Id,,Order Line Quantity\n")

    assert refused.code is FileCode.UNKNOWN_COLUMN
    assert refused.message == "Column 3 has no name."


def test_a_header_that_is_not_text_is_refused_as_malformed() -> None:
    refused = refusal("Order Reference,Order Line Id".encode("utf-16-le"))

    assert refused.code is FileCode.MALFORMED
    assert "UTF-8" in refused.message


def test_bytes_that_are_not_utf8_are_refused_naming_their_line_after_earlier_records() -> None:
    data = HEADER + b"LO-1,5,3\n" + b'LO-2,"6\n7",1\n' + b"LO-\xe9,8,1\n" + b"LO-4,9,1\n"
    seen: list[CsvRecord] = []

    with pytest.raises(FileRefused) as raised:
        seen.extend(opened(data))

    assert raised.value.code is FileCode.NOT_UTF8
    assert raised.value.line == 5  # physical line: the quoted newline counts
    assert "Line 5" in raised.value.message
    assert [record.line_number for record in seen] == [2, 3]


def test_bytes_that_are_not_utf8_in_the_header_refuse_the_file_at_once() -> None:
    with pytest.raises(FileRefused) as raised:
        opened(b"Order Reference,Variant Name\xff\nLO-1,x\n")

    assert raised.value.code is FileCode.NOT_UTF8
    assert raised.value.line == 1


def test_a_character_cut_short_at_the_end_of_the_file_is_not_utf8() -> None:
    refused = refusal(HEADER + b"LO-1,5,3\nLO-2,6,\xe2\x82")

    assert refused.code is FileCode.NOT_UTF8
    assert refused.line == 3


def test_a_stream_read_one_byte_at_a_time_reads_as_a_whole() -> None:
    data = (
        BOM
        + b"Order Reference;Variant Name;Variant Description\n"
        + 'LO-1;Perceuse \u00e9lectrique \u20ac;"line\r\none \U0001f529"\r\n'.encode()
        + "LO-2;\u65e5\u672c;\n".encode()
    )

    slowly = opened(data, stream=OneByteAtATime)

    assert slowly.columns == opened(data).columns
    assert list(slowly) == records(data)
    assert records(data)[0].cells[2] == "line\r\none \U0001f529"


def test_bad_bytes_are_found_on_their_line_when_read_one_byte_at_a_time() -> None:
    data = HEADER + "LO-\u00e9,5,3\n".encode() + b"LO-2,\xc3(,1\n"

    refused = refusal(data, stream=OneByteAtATime)

    assert (refused.code, refused.line) == (FileCode.NOT_UTF8, 3)


def test_a_cell_of_a_megabyte_is_read_whole() -> None:
    big = "x" * 1_000_000

    (record,) = records(b"Order Reference,Variant Name\nLO-1," + big.encode() + b"\n")

    assert record.cells[1] == big


def test_a_row_using_the_other_delimiter_arrives_as_one_cell() -> None:
    assert records(HEADER + b"LO-1;5;3\n") == [CsvRecord(2, ("LO-1;5;3", "", ""), 0)]


def test_a_short_row_is_padded_and_a_long_one_counts_its_extra_fields() -> None:
    data = HEADER + b"LO-1,5\n" + b"LO-2,6,1,x,y\n" + b"LO-3,7,1,,\n"

    assert records(data) == [
        CsvRecord(2, ("LO-1", "5", ""), 0),
        CsvRecord(3, ("LO-2", "6", "1"), 2),
        CsvRecord(4, ("LO-3", "7", "1"), 0),  # trailing delimiters lose nothing
    ]


def test_a_quote_that_is_never_closed_refuses_the_file_naming_where_it_opens() -> None:
    refused = refusal(HEADER + b"LO-1,5,3\n" + b'LO-2,"6,1\n' + b"LO-3,7,1\n")

    assert refused.code is FileCode.MALFORMED
    assert refused.line == 3
    assert "never closed" in refused.message


def test_text_after_a_closing_quote_refuses_the_file_naming_its_line() -> None:
    refused = refusal(HEADER + b'LO-1,"5"x,3\n')

    assert (refused.code, refused.line) == (FileCode.MALFORMED, 2)


def test_the_file_is_read_lazily() -> None:
    csv_file: CsvFile = opened(HEADER + b"LO-1,5,3\n" * 3)
    iterator = iter(csv_file)

    assert next(iterator).line_number == 2
    assert [record.line_number for record in iterator] == [3, 4]
