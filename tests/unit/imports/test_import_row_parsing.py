"""One import row read on its own: typed values, what "not given" means, the seed's codes
for malformed cells, the presence rules that need no database, and custom fields. No I/O.

Every row here goes through both of the parser's paths (the whole-row one and the
cell-by-cell one), and they must agree."""

from __future__ import annotations

import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from ordersync.adapters.csv import CsvRecord, open_csv
from ordersync.domain.catalog import CustomField, CustomFieldEntity, CustomFieldType
from ordersync.domain.imports import Column, RowCode, RowOutcome, RowResult
from ordersync.domain.money import MAX_AMOUNT, MAX_UNIT_PRICE
from ordersync.domain.statuses import LogisticOrderStatus
from ordersync.rules.import_rows import ImportRow, RowParser, parse_row
from ordersync.rules.line_updates import MAX_QUANTITY
from tests.unit.factories import custom_field

C = Column
T = CustomFieldType
SEED = [column.value for column in Column]
FIELDS = {
    "CF-TEXT": custom_field("CF-TEXT", entity=CustomFieldEntity.ORDER),
    "CF-COUNT": custom_field("CF-COUNT", type=T.NUMBER),
    "CF-GIFT": custom_field("CF-GIFT", type=T.BOOLEAN),
    "CF-DUE": custom_field("CF-DUE", type=T.DATE, entity=CustomFieldEntity.ORDER),
    "CF-SIZE": custom_field("CF-SIZE", type=T.LIST, allowed_values=("S", "M", "L")),
}
ADDRESS = {
    C.ADDRESS_FULL_NAME: "Jane Doe",
    C.ADDRESS_COUNTRY: "FR",
    C.ADDRESS_STREET_NAME: "1 rue de la Paix",
    C.ADDRESS_CITY: "Paris",
    C.ADDRESS_ZIP_CODE: "75002",
}


def parse(
    values: Mapping[str, str],
    *,
    columns: list[str] | None = None,
    fields: Mapping[str, CustomField] = FIELDS,
    extra_fields: int = 0,
) -> ImportRow | RowOutcome:
    columns = columns or SEED + list(fields)
    record = CsvRecord(7, tuple(values.get(name, "") for name in columns), extra_fields)
    parser = RowParser(columns, fields)
    result = parser.parse(record)
    assert result == parser._parse_slowly(record)  # the two paths agree
    return result


def row(**cells: str) -> dict[str, str]:
    """A row naming its order and line, with `cells` by Column name or custom field id."""
    values = {C.ORDER_REFERENCE.value: "LO-1", C.LINE_ID.value: "5"}
    for name, text in cells.items():
        values[C[name].value if name in C.__members__ else name.replace("_", "-")] = text
    return values


def accepted(values: Mapping[str, str], **options: Any) -> ImportRow:
    result = parse(values, **options)
    assert isinstance(result, ImportRow), result
    return result


def refused(values: Mapping[str, str], code: RowCode, **options: Any) -> str:
    result = parse(values, **options)
    assert isinstance(result, RowOutcome), result
    assert (result.line_number, result.result, result.code) == (7, RowResult.ERROR, code)
    assert result.message
    return result.message


# --- values -------------------------------------------------------------------------------


def test_a_full_row_reads_as_typed_values() -> None:
    values = {
        **row(
            ORDER_EXTERNAL_ID="ERP-1",
            LINE_EXTERNAL_ID="ERP-1-1",
            ACCOUNT_EXTERNAL_ID="ACC-1",
            SUPPLIER_EXTERNAL_ID="SUP-1",
            NET_UNIT_PRICE="12.50",
            QUANTITY="3",
            OFFER_PRICE_EXTERNAL_ID="OP-1",
            VARIANT_EXTERNAL_ID="VAR-1",
            STATUS="ORDER_CREATED",
            GROSS_UNIT_PRICE="15",
            CLASSIFICATION_EXTERNAL_ID="CLS-1",
            CUSTOMER_EXTERNAL_ID="USR-1",
            TAX_AMOUNT="7.50",
            VARIANT_NAME="Drill",
            VARIANT_DESCRIPTION="Cordless, 18V",
            ADDRESS_STATE="IDF",
            ADDRESS_ADDITIONAL="2nd floor",
            MARK_FOR_DELETION="false",
        ),
        **ADDRESS,
    }

    parsed = accepted(values)

    assert parsed == ImportRow(
        line_number=7,
        given=frozenset(Column),
        order_reference="LO-1",
        order_external_id="ERP-1",
        line_id=5,
        line_external_id="ERP-1-1",
        account_external_id="ACC-1",
        supplier_external_id="SUP-1",
        net_unit_price=Decimal("12.50"),
        gross_unit_price=Decimal("15"),
        tax_amount=Decimal("7.50"),
        quantity=3,
        offer_price_external_id="OP-1",
        variant_external_id="VAR-1",
        status=LogisticOrderStatus.ORDER_CREATED,
        classification_external_id="CLS-1",
        customer_external_id="USR-1",
        variant_name="Drill",
        variant_description="Cordless, 18V",
        address={
            "fullName": "Jane Doe",
            "country": "FR",
            "streetName": "1 rue de la Paix",
            "city": "Paris",
            "zipCode": "75002",
            "state": "IDF",
            "additional": "2nd floor",
        },
        delete=False,
    )


def test_an_empty_or_blank_cell_and_an_absent_column_mean_not_given() -> None:
    parsed = accepted(
        {**row(QUANTITY="  ", VARIANT_NAME=""), C.ORDER_REFERENCE.value: " LO-1 "},
        columns=[C.ORDER_REFERENCE.value, C.LINE_ID.value, C.QUANTITY.value, "Variant Name"],
    )

    assert parsed.given == {C.ORDER_REFERENCE, C.LINE_ID}
    assert parsed.order_reference == "LO-1"
    assert (parsed.quantity, parsed.variant_name, parsed.status) == (None, None, None)
    assert (parsed.address, parsed.delete, parsed.line_custom_fields) == ({}, False, {})


def test_columns_in_any_order_read_the_same() -> None:
    values = row(QUANTITY="3", NET_UNIT_PRICE="1.5", CF_SIZE="M")
    columns = SEED + list(FIELDS)

    assert accepted(values, columns=columns[::-1]) == accepted(values, columns=columns)


def test_the_spreadsheet_escape_is_dropped_and_cells_are_trimmed() -> None:
    parsed = accepted(row(VARIANT_NAME=" '=SUM(A1) ", VARIANT_EXTERNAL_ID="'-VAR", QUANTITY=" 4"))

    assert (parsed.variant_name, parsed.variant_external_id, parsed.quantity) == (
        "=SUM(A1)",
        "-VAR",
        4,
    )


def test_an_escaped_negative_number_is_still_negative() -> None:
    message = refused(row(QUANTITY="'-5"), RowCode.OUT_OF_RANGE)

    assert message.startswith('Order Line Quantity: "-5" is out of range')


def test_parse_row_reads_one_row_without_a_parser_at_hand() -> None:
    record = CsvRecord(3, ("LO-9", "12"), 0)

    parsed = parse_row(record, [C.ORDER_REFERENCE.value, C.LINE_ID.value], {})

    assert isinstance(parsed, ImportRow)
    assert (parsed.line_number, parsed.order_reference, parsed.line_id) == (3, "LO-9", 12)


# --- F-E-006 and F-E-007: numbers and ranges ------------------------------------------------


@pytest.mark.parametrize(
    ("column", "text"),
    [
        ("QUANTITY", "three"),
        ("QUANTITY", "1.5"),
        ("QUANTITY", "1,000"),
        ("QUANTITY", "1e3"),
        ("QUANTITY", "1_000"),
        ("LINE_ID", "#5"),
        ("NET_UNIT_PRICE", "abc"),
        ("NET_UNIT_PRICE", "1e3"),
        ("GROSS_UNIT_PRICE", "NaN"),
        ("GROSS_UNIT_PRICE", "Infinity"),
        ("TAX_AMOUNT", "1 000"),
        ("TAX_AMOUNT", "\u0661\u0662"),  # Arabic-Indic digits
    ],
)
def test_a_number_that_is_not_one_is_f_e_006(column: str, text: str) -> None:
    message = refused(row(**{column: text}), RowCode.NOT_A_NUMBER)

    assert message.startswith(f'{C[column].value}: "{text}" is not a')


def test_a_decimal_comma_is_f_e_006_with_a_hint() -> None:
    message = refused(row(NET_UNIT_PRICE="12,50"), RowCode.NOT_A_NUMBER)

    assert message == 'Net Unit Price: "12,50" is not a number; write decimals with a dot.'


@pytest.mark.parametrize(
    ("column", "text", "value"),
    [
        ("QUANTITY", "1", 1),
        ("QUANTITY", "+7", 7),
        ("QUANTITY", str(MAX_QUANTITY), MAX_QUANTITY),
        ("LINE_ID", "1", 1),
        ("LINE_ID", "007", 7),
        ("LINE_ID", "+" + "0" * 20 + "9", 9),
        ("LINE_ID", str(2**31 - 1), 2**31 - 1),
        ("NET_UNIT_PRICE", "0", Decimal(0)),
        ("NET_UNIT_PRICE", "-0.00", Decimal("0.00")),
        ("NET_UNIT_PRICE", ".5", Decimal("0.5")),
        ("NET_UNIT_PRICE", "12.", Decimal("12")),
        ("NET_UNIT_PRICE", "1.2345", Decimal("1.2345")),
        ("NET_UNIT_PRICE", "1.500000", Decimal("1.5")),
        ("GROSS_UNIT_PRICE", str(MAX_UNIT_PRICE), MAX_UNIT_PRICE),
        ("TAX_AMOUNT", str(MAX_AMOUNT), MAX_AMOUNT),
    ],
)
def test_a_number_in_range_is_read(column: str, text: str, value: object) -> None:
    parsed = accepted(row(**{column: text}))

    assert getattr(parsed, column.lower().replace("order_", "")) == value


@pytest.mark.parametrize(
    ("column", "text", "why"),
    [
        ("QUANTITY", "-1", "is out of range (1 to 1000000000)"),
        ("QUANTITY", str(MAX_QUANTITY + 1), "is out of range (1 to 1000000000)"),
        ("QUANTITY", "9" * 40, "is out of range (1 to 1000000000)"),
        ("QUANTITY", "-" + "9" * 40, "is out of range (1 to 1000000000)"),
        ("LINE_ID", "0", "is out of range (1 to 2147483647)"),
        ("LINE_ID", str(2**31), "is out of range (1 to 2147483647)"),
        ("NET_UNIT_PRICE", "-0.01", "is negative"),
        ("NET_UNIT_PRICE", "1.23456", "has more than 4 decimals"),
        ("GROSS_UNIT_PRICE", "1000000000", "is more than 999999999.9999"),
        ("TAX_AMOUNT", "1000000000000", "is more than 999999999999.99"),
        ("TAX_AMOUNT", "-1", "is negative"),
    ],
)
def test_a_number_out_of_range_is_f_e_007(column: str, text: str, why: str) -> None:
    message = refused(row(**{column: text}), RowCode.OUT_OF_RANGE)

    assert message == f'{C[column].value}: "{text}" {why}.'


def test_quantity_zero_is_f_e_007_pointing_at_the_deletion_flag() -> None:
    message = refused(row(QUANTITY="0"), RowCode.OUT_OF_RANGE)

    assert "set Mark Order Line For Deletion to true" in message


def test_quantity_zero_on_a_line_marked_for_deletion_is_accepted() -> None:
    parsed = accepted(row(QUANTITY="0", MARK_FOR_DELETION="Yes"))

    assert (parsed.quantity, parsed.delete) == (0, True)


# --- F-E-008: values of a list ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("DRAFT_ORDER", LogisticOrderStatus.DRAFT_ORDER),
        ("ORDER_DRAFT_ON_HOLD", LogisticOrderStatus.DRAFT_ORDER_ON_HOLD),
        ("draft_order_on_hold", LogisticOrderStatus.DRAFT_ORDER_ON_HOLD),
        ("Shipped", LogisticOrderStatus.SHIPPED),
    ],
)
def test_a_logistic_order_status_is_read_in_any_case_with_the_seed_spelling(
    text: str, status: LogisticOrderStatus
) -> None:
    assert accepted(row(STATUS=text)).status is status


@pytest.mark.parametrize("text", ["SHIPPING", "DRAFT", "ORDER_CREATED!"])
def test_a_status_that_is_none_of_them_is_f_e_008(text: str) -> None:
    message = refused(row(STATUS=text), RowCode.UNEXPECTED_VALUE)

    assert message == f'Order Status: "{text}" is not a logistic order status.'


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        *[("true", True), ("TRUE", True), ("yes", True), ("1", True)],
        *[("False", False), ("no", False), ("0", False)],
    ],
)
def test_the_deletion_flag_reads_true_false_yes_no_1_0(text: str, flag: bool) -> None:
    assert accepted(row(MARK_FOR_DELETION=text)).delete is flag


@pytest.mark.parametrize("text", ["y", "maybe", "2", "oui"])
def test_any_other_deletion_flag_is_f_e_008(text: str) -> None:
    refused(row(MARK_FOR_DELETION=text), RowCode.UNEXPECTED_VALUE)


# --- F-E-012: format ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "limit"),
    [
        ("ORDER_EXTERNAL_ID", 128),
        ("VARIANT_EXTERNAL_ID", 128),
        ("VARIANT_NAME", 512),
        ("VARIANT_DESCRIPTION", 4096),
        ("ADDRESS_FULL_NAME", 256),
        ("ADDRESS_STREET_NAME", 512),
        ("ADDRESS_ZIP_CODE", 32),
        ("ADDRESS_COUNTRY", 64),
        ("ADDRESS_STATE", 256),
    ],
)
def test_text_longer_than_its_column_is_f_e_012(column: str, limit: int) -> None:
    address = {name.value: text for name, text in ADDRESS.items()}
    values = {**address, **row()} if column.startswith("ADDRESS") else row()

    accepted({**values, C[column].value: "x" * limit})
    message = refused({**values, C[column].value: "y" * (limit + 1)}, RowCode.WRONG_FORMAT)

    shown = "y" * (limit + 1) if limit < 64 else "y" * 64 + "…"
    assert message == (
        f'{C[column].value}: "{shown}" is {limit + 1} characters long; at most {limit}.'
    )


def test_a_megabyte_cell_read_from_a_file_is_f_e_012_for_a_name() -> None:
    data = b"Order Reference,Order Line Id,Variant Name\nLO-1,5," + b"n" * 1_000_000 + b"\n"
    csv_file = open_csv(io.BytesIO(data), known_columns=SEED, custom_field_columns=())

    (record,) = csv_file
    result = RowParser(csv_file.columns, {}).parse(record)

    assert isinstance(result, RowOutcome)
    assert result.code == RowCode.WRONG_FORMAT
    assert "1000000 characters long; at most 512" in (result.message or "")


@pytest.mark.parametrize(
    ("column", "text", "why"),
    [
        ("VARIANT_NAME", "Dr\x00ill", "contains a NUL character"),
        ("VARIANT_DESCRIPTION", "a\x00", "contains a NUL character"),
        ("ORDER_REFERENCE", "LO\x001", "contains a NUL character"),
        ("VARIANT_EXTERNAL_ID", "VAR\n1", "contains a control character"),
        ("CUSTOMER_EXTERNAL_ID", "USR\x7f", "contains a control character"),
        ("VARIANT_NAME", "bad \ud800", "is not valid Unicode (a lone surrogate)"),
    ],
)
def test_text_that_is_not_acceptable_is_f_e_012(column: str, text: str, why: str) -> None:
    message = refused(row(**{column: text}), RowCode.WRONG_FORMAT)

    assert message.endswith(f"{why}.")


def test_free_text_may_hold_newlines_and_tabs() -> None:
    parsed = accepted(row(VARIANT_DESCRIPTION="line one\n\tline two", VARIANT_NAME="a\u00a0b"))

    assert parsed.variant_description == "line one\n\tline two"
    assert parsed.variant_name == "a\u00a0b"


def test_a_one_letter_country_is_f_e_012() -> None:
    values = {**row(), **{name.value: text for name, text in ADDRESS.items()}}

    message = refused({**values, C.ADDRESS_COUNTRY.value: "F"}, RowCode.WRONG_FORMAT)

    assert message == 'Shipping Address Country: "F" is shorter than 2 characters.'


def test_a_row_with_more_fields_than_columns_is_f_e_012() -> None:
    message = refused(row(QUANTITY="3"), RowCode.WRONG_FORMAT, extra_fields=2)

    assert "more fields than the header's" in message
    assert "(2 more)" in message


def test_a_long_value_is_shown_cut_in_its_message() -> None:
    message = refused(row(QUANTITY="1" + "x" * 100), RowCode.NOT_A_NUMBER)

    assert message == f'Order Line Quantity: "{"1" + "x" * 63}…" is not a whole number.'


# --- F-E-001: what must be given --------------------------------------------------------------


def test_a_row_naming_no_order_is_f_e_001_naming_both_columns() -> None:
    values = row(ORDER_EXTERNAL_ID="")
    del values[C.ORDER_REFERENCE.value]

    message = refused(values, RowCode.REQUIRED)

    assert "Order Reference" in message and "Order External Id" in message


def test_an_order_named_by_its_external_id_alone_is_enough() -> None:
    values = {C.ORDER_EXTERNAL_ID.value: "ERP-1", C.LINE_EXTERNAL_ID.value: "ERP-1-1"}

    parsed = accepted(values)

    assert (parsed.order_reference, parsed.order_external_id) == (None, "ERP-1")
    assert (parsed.line_id, parsed.line_external_id) == (None, "ERP-1-1")


def test_a_row_naming_no_line_is_f_e_001_naming_both_columns() -> None:
    message = refused({C.ORDER_REFERENCE.value: "LO-1"}, RowCode.REQUIRED)

    assert "Order Line Id" in message and "Order Line External Id" in message


def test_a_file_without_the_order_columns_fails_every_row_f_e_001() -> None:
    refused({C.LINE_ID.value: "5"}, RowCode.REQUIRED, columns=[C.LINE_ID.value], fields={})


def test_a_row_using_the_other_delimiter_fails_f_e_001_with_a_hint() -> None:
    data = b"Order Reference,Order Line Id,Order Line Quantity\nLO-1;5;3\n"
    csv_file = open_csv(io.BytesIO(data), known_columns=SEED, custom_field_columns=())

    (record,) = csv_file
    result = RowParser(csv_file.columns, {}).parse(record)

    assert isinstance(result, RowOutcome)
    assert result.code == RowCode.REQUIRED
    assert "another delimiter" in (result.message or "")


@pytest.mark.parametrize("present", list(ADDRESS))
def test_part_of_a_shipping_address_is_f_e_001_naming_what_is_missing(present: Column) -> None:
    message = refused({**row(), present.value: ADDRESS[present]}, RowCode.REQUIRED)

    missing = [column.value for column in ADDRESS if column is not present]
    assert message.startswith(f"{', '.join(missing)} are missing")


def test_one_missing_part_of_a_shipping_address_is_named() -> None:
    values = {**row(), **{name.value: text for name, text in ADDRESS.items()}}
    del values[C.ADDRESS_ZIP_CODE.value]

    message = refused(values, RowCode.REQUIRED)

    assert message.startswith("Shipping Address Zip Code is missing")


def test_state_and_additional_alone_need_no_other_address_field() -> None:
    parsed = accepted(row(ADDRESS_STATE="IDF", ADDRESS_ADDITIONAL="Door B"))

    assert parsed.address == {"state": "IDF", "additional": "Door B"}


# --- the first problem, in the seed's order --------------------------------------------------


@pytest.mark.parametrize(
    ("values", "code", "column"),
    [
        (row(QUANTITY="x", STATUS="NOPE"), RowCode.NOT_A_NUMBER, "Order Line Quantity"),
        (row(STATUS="NOPE", QUANTITY="-1"), RowCode.OUT_OF_RANGE, "Order Line Quantity"),
        ({C.QUANTITY.value: "x"}, RowCode.REQUIRED, "Order Reference"),
        (
            {C.ORDER_REFERENCE.value: "LO-1", C.LINE_ID.value: "x"},
            RowCode.NOT_A_NUMBER,
            "Order Line Id",
        ),
        (
            {C.ORDER_REFERENCE.value: "LO-1", C.QUANTITY.value: "x"},
            RowCode.REQUIRED,
            "Order Line Id",
        ),
        (
            row(ADDRESS_CITY="Paris", MARK_FOR_DELETION="maybe"),
            RowCode.REQUIRED,
            "Shipping Address Full Name",
        ),
        (row(ADDRESS_CITY="Paris", TAX_AMOUNT="x"), RowCode.NOT_A_NUMBER, "Tax Amount"),
        (row(MARK_FOR_DELETION="maybe", CF_COUNT="x"), RowCode.UNEXPECTED_VALUE, "Mark Order"),
    ],
)
def test_the_first_problem_in_the_seeds_column_order_is_reported(
    values: dict[str, str], code: RowCode, column: str
) -> None:
    message = refused(values, code)

    assert column in message.split(":")[0] or message.startswith(f"Neither {column}")


# --- custom fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("CF-TEXT", "PO 12/3", "PO 12/3"),
        ("CF-COUNT", "12", 12),
        ("CF-COUNT", "-2.5", -2.5),
        ("CF-COUNT", "1e3", 1000.0),
        ("CF-GIFT", "TRUE", True),
        ("CF-GIFT", "no", False),
        ("CF-DUE", "2025-06-01", "2025-06-01"),
        ("CF-SIZE", "M", "M"),
    ],
)
def test_a_custom_field_cell_is_read_as_its_definitions_type(
    field: str, text: str, value: object
) -> None:
    parsed = accepted(row(**{field.replace("-", "_"): text}))

    fields = parsed.order_custom_fields | parsed.line_custom_fields
    assert fields == {field: value}
    assert type(fields[field]) is type(value)


def test_order_fields_and_line_fields_are_kept_apart() -> None:
    parsed = accepted(row(CF_TEXT="PO-1", CF_SIZE="L", CF_DUE="2025-01-31"))

    assert parsed.order_custom_fields == {"CF-TEXT": "PO-1", "CF-DUE": "2025-01-31"}
    assert parsed.line_custom_fields == {"CF-SIZE": "L"}
    assert parsed.given == {C.ORDER_REFERENCE, C.LINE_ID}


@pytest.mark.parametrize(
    ("field", "text", "why"),
    [
        ("CF-COUNT", "twelve", "expects a number"),
        ("CF-COUNT", "12,5", "expects a number"),
        ("CF-COUNT", "inf", "expects a number"),
        ("CF-COUNT", "1e999", "expects a finite number"),
        ("CF-GIFT", "maybe", "expects true or false"),
        ("CF-DUE", "2025-02-30", "expects a date as YYYY-MM-DD"),
        ("CF-DUE", "01/06/2025", "expects a date as YYYY-MM-DD"),
        ("CF-SIZE", "XL", "allows only S, M, L"),
        ("CF-SIZE", "m", "allows only S, M, L"),
    ],
)
def test_a_custom_field_cell_that_does_not_fit_is_custom_field_invalid(
    field: str, text: str, why: str
) -> None:
    message = refused(row(**{field.replace("-", "_"): text}), RowCode.CUSTOM_FIELD_INVALID)

    assert message.startswith(f'{field}: "{text}" {why}')


def test_a_custom_field_with_a_nul_is_f_e_012() -> None:
    refused(row(CF_TEXT="a\x00b"), RowCode.WRONG_FORMAT)


def test_a_column_whose_custom_field_is_gone_refuses_only_filled_cells() -> None:
    columns = [C.ORDER_REFERENCE.value, C.LINE_ID.value, "CF-OLD"]

    assert accepted(row(), columns=columns, fields={}).line_custom_fields == {}
    message = refused(row(CF_OLD="x"), RowCode.CUSTOM_FIELD_INVALID, columns=columns, fields={})
    assert "no custom field" in message


def test_a_parser_reads_many_rows_alike() -> None:
    columns = SEED + list(FIELDS)
    parser = RowParser(columns, FIELDS)
    rows = [row(QUANTITY=str(n % 3), STATUS="DRAFT_ORDER", CF_GIFT="yes") for n in range(30)]

    results = [
        parser.parse(CsvRecord(n, tuple(values.get(c, "") for c in columns), 0))
        for n, values in enumerate(rows)
    ]

    assert [isinstance(result, ImportRow) for result in results] == [n % 3 != 0 for n in range(30)]
