"""One row of the internal-order import as typed values, or the first reason it is refused
(SPEC §4, seed "Update an Internal Order"). Pure: nothing here reads the database.

What is checked here is what a row says on its own: each cell's format and range, the
order and line identifiers, the shipping address's all-or-none rule. Whether the order,
line, offer or variant exist, and what the order's status lets change, is the job's to
decide afterwards. The first problem is reported, in the seed's column order, then custom
fields in the file's order.

This runs for every row of files of a million rows, so a `RowParser` works out once per file
which cell holds which column and how it is read, and `parse` does no more than that per row.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import compress
from operator import itemgetter, le
from typing import Any, NoReturn, Protocol

from ordersync.adapters.csv.cells import unescape_cell
from ordersync.domain.catalog import CustomField, CustomFieldEntity, CustomFieldType
from ordersync.domain.imports import (
    ADDRESS_OPTIONAL,
    ADDRESS_REQUIRED,
    Column,
    RowCode,
    RowOutcome,
    RowResult,
)
from ordersync.domain.money import MAX_AMOUNT, MAX_UNIT_PRICE
from ordersync.domain.statuses import LogisticOrderStatus
from ordersync.domain.text import text_problem
from ordersync.rules.custom_fields import BOOLEAN_WORDS, custom_field_from_text
from ordersync.rules.line_updates import MAX_QUANTITY

# Lengths, in characters, of what the columns and the operator PATCH's address hold.
ID_MAX = 128
NAME_MAX = 512
DESCRIPTION_MAX = 4096
ADDRESS_MAX = {
    "fullName": 256,
    "streetName": 512,
    "city": 256,
    "zipCode": 32,
    "country": 64,
    "state": 256,
    "additional": 512,
}
COUNTRY_MIN = 2  # as the operator PATCH: an ISO code or a name, never one letter
MAX_LINE_ID = 2**31 - 1  # line ids are 32-bit integers
MONEY_DECIMALS = 4  # the money columns are NUMERIC(18,4)
SHOWN_MAX = 64  # characters of a refused value repeated in its message
# Texts of one column whose reading is kept, per file, and their longest: 256 KiB at most.
MEMORY_SIZE = 4096
REMEMBERED_LENGTH = 64

# Identifiers hold no control characters, as in the API (`schemas.Id`).
_NOT_IN_ID = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_SIGNED_WHOLE = re.compile(r"[+-][0-9]+")
_DECIMAL = re.compile(r"([+-]?)(?:[0-9]+(?:\.([0-9]*))?|\.([0-9]+))")
_PLAIN_AMOUNT = re.compile(rf"[0-9]{{1,15}}(?:\.[0-9]{{0,{MONEY_DECIMALS}}})?")


class CellRecord(Protocol):
    """A row as the CSV reader gives it (`adapters.csv.CsvRecord` is one)."""

    @property
    def line_number(self) -> int: ...
    @property
    def cells(self) -> Sequence[str]: ...
    @property
    def extra_fields(self) -> int: ...


@dataclass(slots=True)
class ImportRow:
    """What a row asks for. None (and absent from `given`) means the cell was empty: leave
    the field as it is. `given` holds the seed columns whose cell was filled. Not frozen,
    though nothing changes it: a frozen dataclass sets each field through
    `object.__setattr__`, and its 23 took 4.5 µs of every row of a million-row file."""

    line_number: int
    given: frozenset[Column]
    order_reference: str | None = None
    order_external_id: str | None = None
    line_id: int | None = None
    line_external_id: str | None = None
    account_external_id: str | None = None
    supplier_external_id: str | None = None
    net_unit_price: Decimal | None = None
    gross_unit_price: Decimal | None = None
    tax_amount: Decimal | None = None
    quantity: int | None = None
    offer_price_external_id: str | None = None
    variant_external_id: str | None = None
    status: LogisticOrderStatus | None = None
    classification_external_id: str | None = None
    customer_external_id: str | None = None
    variant_name: str | None = None
    variant_description: str | None = None
    address: dict[str, str] = field(default_factory=dict)  # the address's JSON keys
    delete: bool = False
    order_custom_fields: dict[str, Any] = field(default_factory=dict)
    line_custom_fields: dict[str, Any] = field(default_factory=dict)


class _Refused(Exception):
    """A cell's value is refused: the code, and why (completed with the column and value)."""

    def __init__(self, code: RowCode, why: str) -> None:
        self.code = code
        self.why = why


class _ZeroQuantity(_Refused):
    pass


def _refuse(code: RowCode, why: str) -> NoReturn:
    raise _Refused(code, why)


# How each kind of cell is read: text in, typed value out, or _Refused.
Reading = Callable[[str], Any]


def _identifier(text: str) -> str:
    if len(text) > ID_MAX:
        _refuse(RowCode.WRONG_FORMAT, f"is {len(text)} characters long; at most {ID_MAX}")
    if _NOT_IN_ID.search(text):
        _refuse(RowCode.WRONG_FORMAT, text_problem(text) or "contains a control character")
    return text


def _text(limit: int, at_least: int = 1) -> Reading:
    def read(text: str) -> str:
        if len(text) > limit:
            _refuse(RowCode.WRONG_FORMAT, f"is {len(text)} characters long; at most {limit}")
        if len(text) < at_least:
            _refuse(RowCode.WRONG_FORMAT, f"is shorter than {at_least} characters")
        problem = text_problem(text)
        if problem:
            _refuse(RowCode.WRONG_FORMAT, problem)
        return text

    return read


def _whole(text: str, low: int, high: int) -> int:
    if (text.isascii() and text.isdigit()) or _SIGNED_WHOLE.fullmatch(text):
        # Past 12 digits it is out of range anyway; int() of thousands of digits is slow.
        if len(text.lstrip("+-").lstrip("0")) <= 12:
            value = int(text)
        else:
            value = low - 1 if text[0] == "-" else high + 1
        if low <= value <= high:
            return value
        _refuse(RowCode.OUT_OF_RANGE, f"is out of range ({low} to {high})")
    _refuse(RowCode.NOT_A_NUMBER, "is not a whole number")


def _line_id(text: str) -> int:
    return _whole(text, 1, MAX_LINE_ID)


def _quantity(text: str) -> int:
    try:
        value = _whole(text, 0, MAX_QUANTITY)
    except _Refused as refused:
        if refused.code is RowCode.OUT_OF_RANGE:
            _refuse(RowCode.OUT_OF_RANGE, f"is out of range (1 to {MAX_QUANTITY})")
        raise
    if value == 0:
        raise _ZeroQuantity(
            RowCode.OUT_OF_RANGE,
            f"is out of range (1 to {MAX_QUANTITY}); to delete the line, set "
            f"{Column.MARK_FOR_DELETION.value} to true",
        )
    return value


def _amount(high: Decimal) -> Reading:
    def read(text: str) -> Decimal:
        if _PLAIN_AMOUNT.fullmatch(text):  # the usual `12.50`: no sign, few decimals
            value = Decimal(text)
            if value <= high:
                return value
        match = _DECIMAL.fullmatch(text)
        if match is None:
            if "," in text and _DECIMAL.fullmatch(text.replace(",", ".", 1)):
                _refuse(RowCode.NOT_A_NUMBER, "is not a number; write decimals with a dot")
            _refuse(RowCode.NOT_A_NUMBER, "is not a number")
        sign, decimals, only_decimals = match.groups()
        if len((decimals or only_decimals or "").rstrip("0")) > MONEY_DECIMALS:
            _refuse(RowCode.OUT_OF_RANGE, f"has more than {MONEY_DECIMALS} decimals")
        value = Decimal(text)
        if sign == "-":
            if value:
                _refuse(RowCode.OUT_OF_RANGE, "is negative")
            value = value.copy_abs()
        if value > high:
            _refuse(RowCode.OUT_OF_RANGE, f"is more than {high}")
        return value

    return read


def _status(text: str) -> LogisticOrderStatus:
    try:
        return LogisticOrderStatus.parse(text)
    except ValueError:
        _refuse(RowCode.UNEXPECTED_VALUE, "is not a logistic order status")


def _remembered(reading: Reading) -> tuple[Reading, dict[str, Any]]:
    """`reading` with the values it gave kept, and where they are kept: statuses, flags,
    quantities and prices repeat from row to row, and a dictionary look-up is cheaper than
    reading them again. Refusals are not kept, nor long texts, nor anything past
    MEMORY_SIZE different texts."""
    memory: dict[str, Any] = {}

    def read(text: str) -> Any:
        try:
            return memory[text]
        except KeyError:
            value = reading(text)
            if len(memory) < MEMORY_SIZE and len(text) <= REMEMBERED_LENGTH:
                memory[text] = value
            return value

    return read, memory


def _flag(text: str) -> bool:
    value = BOOLEAN_WORDS.get(text.lower())
    if value is None:
        _refuse(RowCode.UNEXPECTED_VALUE, "is not one of true/false, yes/no, 1/0")
    return value


def _custom_field(definition: CustomField | None) -> Reading:
    def read(text: str) -> Any:
        if definition is None:
            _refuse(RowCode.CUSTOM_FIELD_INVALID, "is in a column of no custom field any more")
        problem = text_problem(text)
        if problem:
            _refuse(RowCode.WRONG_FORMAT, problem)
        value, problem = custom_field_from_text(definition, text)
        if problem:
            _refuse(RowCode.CUSTOM_FIELD_INVALID, problem)
        return value

    return read


# Where a value goes once read.
_ROW, _ADDRESS, _ORDER_FIELDS, _LINE_FIELDS = range(4)

C = Column
_SEED_READINGS: dict[Column, tuple[Reading, int, str]] = {
    C.ORDER_EXTERNAL_ID: (_identifier, _ROW, "order_external_id"),
    C.ORDER_REFERENCE: (_identifier, _ROW, "order_reference"),
    C.LINE_EXTERNAL_ID: (_identifier, _ROW, "line_external_id"),
    C.LINE_ID: (_line_id, _ROW, "line_id"),
    C.ACCOUNT_EXTERNAL_ID: (_identifier, _ROW, "account_external_id"),
    C.SUPPLIER_EXTERNAL_ID: (_identifier, _ROW, "supplier_external_id"),
    C.NET_UNIT_PRICE: (_amount(MAX_UNIT_PRICE), _ROW, "net_unit_price"),
    C.QUANTITY: (_quantity, _ROW, "quantity"),
    C.OFFER_PRICE_EXTERNAL_ID: (_identifier, _ROW, "offer_price_external_id"),
    C.VARIANT_EXTERNAL_ID: (_identifier, _ROW, "variant_external_id"),
    C.STATUS: (_status, _ROW, "status"),
    C.GROSS_UNIT_PRICE: (_amount(MAX_UNIT_PRICE), _ROW, "gross_unit_price"),
    C.CLASSIFICATION_EXTERNAL_ID: (_identifier, _ROW, "classification_external_id"),
    C.CUSTOMER_EXTERNAL_ID: (_identifier, _ROW, "customer_external_id"),
    C.TAX_AMOUNT: (_amount(MAX_AMOUNT), _ROW, "tax_amount"),
    C.VARIANT_NAME: (_text(NAME_MAX), _ROW, "variant_name"),
    C.VARIANT_DESCRIPTION: (_text(DESCRIPTION_MAX), _ROW, "variant_description"),
    **{
        column: (
            _text(ADDRESS_MAX[key], COUNTRY_MIN if key == "country" else 1),
            _ADDRESS,
            key,
        )
        for column, key in (ADDRESS_REQUIRED | ADDRESS_OPTIONAL).items()
    },
    C.MARK_FOR_DELETION: (_flag, _ROW, "delete"),
}
assert set(_SEED_READINGS) == set(Column)

# A step: the seed column (None for a custom field), its cell's index, how it is read,
# where its value goes, under which key, and the column's name for messages.
_Step = tuple[Column | None, int, Reading, int, str, str]

# The presence rules sit in the seed's order: after the order identifiers, after the line
# identifiers, after the shipping address.
_SEGMENT_ENDS = (C.ORDER_REFERENCE, C.LINE_ID, C.ADDRESS_ADDITIONAL)
_ADDRESS_ORDER = [column for column in Column if column in ADDRESS_REQUIRED]
_REQUIRED_KEYS = frozenset(ADDRESS_REQUIRED.values())
# Columns whose values repeat across rows (not line ids, unique per row).
_REMEMBERED = frozenset(
    {
        C.QUANTITY,
        C.NET_UNIT_PRICE,
        C.GROSS_UNIT_PRICE,
        C.TAX_AMOUNT,
        C.STATUS,
        C.MARK_FOR_DELETION,
    }
)
_TYPED_KEYS = frozenset(
    {"line_id", "quantity", "net_unit_price", "gross_unit_price", "tax_amount", "status", "delete"}
)
_TEXT_MAX = {
    **dict.fromkeys(Column, ID_MAX),
    C.VARIANT_NAME: NAME_MAX,
    C.VARIANT_DESCRIPTION: DESCRIPTION_MAX,
}


class RowParser:
    """Parses the rows of one file: `columns` is its header, `custom_fields` the custom
    field definitions by external id (the columns that are not the seed's).

    `parse` first tries the common case with a few whole-row operations (cells trimmed,
    lengths compared and odd characters searched for all at once, values picked with
    `itemgetter`); anything unusual - an escape, a control character, a value that does not
    read - sends the row through the cell-by-cell path, which finds the first problem in
    the seed's order and words it. Both give the same answer for any row."""

    def __init__(self, columns: Sequence[str], custom_fields: Mapping[str, CustomField]) -> None:
        self.columns = tuple(columns)
        index_of = {name: index for index, name in enumerate(self.columns)}
        self._memories: dict[str, dict[str, Any]] = {}
        segments: list[list[_Step]] = [[] for _ in range(len(_SEGMENT_ENDS) + 1)]
        segment = 0
        for column in Column:  # the seed's order is the order of the checks
            reading, bucket, key = _SEED_READINGS[column]
            if column in _REMEMBERED:
                reading, self._memories[key] = _remembered(reading)
            if column.value in index_of:
                step = (column, index_of[column.value], reading, bucket, key, column.value)
                segments[segment].append(step)
            if segment < len(_SEGMENT_ENDS) and column is _SEGMENT_ENDS[segment]:
                segment += 1
        seed = {column.value for column in Column}
        custom: list[tuple[int, Reading | None, int, str]] = []
        for index, name in enumerate(self.columns):
            if name in seed:
                continue
            definition = custom_fields.get(name)
            bucket = (
                _ORDER_FIELDS
                if definition is not None and definition.entity is CustomFieldEntity.ORDER
                else _LINE_FIELDS
            )
            reading, _ = _remembered(_custom_field(definition))
            segments[-1].append((None, index, reading, bucket, name, name))
            free_text = (
                definition is not None
                and definition.type is CustomFieldType.STRING
                and not definition.allowed_values
            )
            custom.append((index, None if free_text else reading, bucket, name))
        self._custom = tuple(custom)
        self._segments = tuple(tuple(steps) for steps in segments)
        self._deletion_index = index_of.get(C.MARK_FOR_DELETION.value)
        self._prepare_common_case()

    def _prepare_common_case(self) -> None:
        steps = [step for steps in self._segments for step in steps]
        seed_steps = [step for step in steps if step[0] is not None]
        seed_columns = [step[0] for step in seed_steps if step[0] is not None]
        row_steps = [step for step in seed_steps if step[3] == _ROW]
        address_steps = [step for step in seed_steps if step[3] == _ADDRESS]
        self._seed_cells = _picker([step[1] for step in seed_steps])
        self._seed_columns = tuple(seed_columns)
        self._every_seed_column = frozenset(seed_columns)
        self._row_cells = _picker([step[1] for step in row_steps])
        self._row_keys = tuple(step[4] for step in row_steps)
        self._address_cells = _picker([step[1] for step in address_steps])
        self._address_keys = tuple(step[4] for step in address_steps)
        # Lengths and characters are checked for the whole row at once; what is left is
        # turning text into numbers, statuses and flags.
        self._typed = tuple(
            (step[4], self._memories.get(step[4], {}), step[2])
            for step in row_steps
            if step[4] in _TYPED_KEYS
        )
        limits = dict.fromkeys(range(len(self.columns)), sys.maxsize)
        for column, (_, index, _, bucket, key, _) in zip(seed_columns, seed_steps, strict=True):
            limits[index] = ADDRESS_MAX[key] if bucket == _ADDRESS else _TEXT_MAX[column]
        self._limits = tuple(limits[index] for index in range(len(self.columns)))

    def parse(self, record: CellRecord) -> ImportRow | RowOutcome:
        """The row's typed values, or a RowOutcome ERROR with the first problem found."""
        if record.extra_fields:
            return self._parse_slowly(record)
        cells = record.cells
        joined = "|".join(cells)
        # Not printable: control characters (NUL, or a newline, allowed only in free text),
        # lone surrogates, and a few harmless ones (no-break space) the slow path accepts.
        if not joined.isprintable():
            return self._parse_slowly(record)
        # Printable text has no whitespace but the space: trim only when one touches a cell's
        # edge.
        if " |" in joined or "| " in joined or joined[:1] == " " or joined[-1:] == " ":
            cells = tuple(map(str.strip, cells))
            joined = "|".join(cells)
        if joined[:1] == "'" or "|'" in joined or not all(map(le, map(len, cells), self._limits)):
            return self._parse_slowly(record)
        texts = self._row_cells(cells)
        row: dict[str, Any] = dict(compress(zip(self._row_keys, texts, strict=True), texts))
        if not ("order_reference" in row or "order_external_id" in row) or not (
            "line_id" in row or "line_external_id" in row
        ):
            return self._parse_slowly(record)
        texts = self._address_cells(cells)
        address = dict(compress(zip(self._address_keys, texts, strict=True), texts))
        if address and not (
            _REQUIRED_KEYS.isdisjoint(address) or _REQUIRED_KEYS.issubset(address)
        ):
            return self._parse_slowly(record)
        if len(address.get("country", "..")) < COUNTRY_MIN:
            return self._parse_slowly(record)
        fields: tuple[dict[str, Any], ...] = (row, address, {}, {})
        try:
            for key, memory, reading in self._typed:
                text = row.get(key)
                if text is not None:
                    value = memory.get(text)
                    row[key] = reading(text) if value is None else value
            for index, custom_reading, bucket, key in self._custom:
                text = cells[index]
                if text:
                    fields[bucket][key] = text if custom_reading is None else custom_reading(text)
        except _Refused:
            return self._parse_slowly(record)
        texts = self._seed_cells(cells)
        return ImportRow(
            record.line_number,
            # Every seed column filled, as in most rows of most files: the one set for all.
            self._every_seed_column
            if all(texts)
            else frozenset(compress(self._seed_columns, texts)),
            address=address,
            order_custom_fields=fields[_ORDER_FIELDS],
            line_custom_fields=fields[_LINE_FIELDS],
            **row,
        )

    def _parse_slowly(self, record: CellRecord) -> ImportRow | RowOutcome:
        cells = record.cells
        if record.extra_fields:
            return _error(
                record,
                RowCode.WRONG_FORMAT,
                f"The row has more fields than the header's {len(self.columns)} columns "
                f"({record.extra_fields} more); a value holding the delimiter must be quoted.",
            )
        row: dict[str, Any] = {}
        buckets: tuple[dict[str, Any], ...] = (row, {}, {}, {})
        given: list[Column] = []
        for number, steps in enumerate(self._segments):
            for column, index, reading, bucket, key, label in steps:
                text = _clean(cells[index])
                if not text:
                    continue
                try:
                    value = reading(text)
                except _ZeroQuantity as refused:
                    if not self._deleting(cells):
                        return _error(record, refused.code, _says(label, text, refused.why))
                    value = 0
                except _Refused as refused:
                    return _error(record, refused.code, _says(label, text, refused.why))
                buckets[bucket][key] = value
                if column is not None:
                    given.append(column)
            if number < len(_SEGMENT_ENDS):
                problem = self._presence_problem(number, buckets, record)
                if problem is not None:
                    return problem
        return ImportRow(
            record.line_number,
            frozenset(given),
            address=buckets[_ADDRESS],
            order_custom_fields=buckets[_ORDER_FIELDS],
            line_custom_fields=buckets[_LINE_FIELDS],
            **row,
        )

    def _deleting(self, cells: Sequence[str]) -> bool:
        if self._deletion_index is None:
            return False
        return BOOLEAN_WORDS.get(_clean(cells[self._deletion_index]).lower(), False)

    def _presence_problem(
        self, rule: int, buckets: tuple[dict[str, Any], ...], record: CellRecord
    ) -> RowOutcome | None:
        row, address = buckets[_ROW], buckets[_ADDRESS]
        if rule == 0 and "order_reference" not in row and "order_external_id" not in row:
            message = (
                f"Neither {C.ORDER_REFERENCE.value} nor {C.ORDER_EXTERNAL_ID.value} is given; "
                "one of them names the order."
            )
        elif rule == 1 and "line_id" not in row and "line_external_id" not in row:
            message = (
                f"Neither {C.LINE_ID.value} nor {C.LINE_EXTERNAL_ID.value} is given; "
                "one of them names the line."
            )
        elif rule == 2 and any(key in address for key in ADDRESS_REQUIRED.values()):
            missing = [c.value for c in _ADDRESS_ORDER if ADDRESS_REQUIRED[c] not in address]
            if not missing:
                return None
            message = (
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing: a "
                "shipping address is given with all of Full Name, Street Name, City, Zip "
                "Code and Country, or none of them."
            )
        else:
            return None
        return _error(record, RowCode.REQUIRED, message + _delimiter_hint(record.cells))


def parse_row(
    record: CellRecord, columns: Sequence[str], custom_fields: Mapping[str, CustomField]
) -> ImportRow | RowOutcome:
    """One row on its own; for many rows of a file, build a RowParser once."""
    return RowParser(columns, custom_fields).parse(record)


def _error(record: CellRecord, code: RowCode, message: str) -> RowOutcome:
    return RowOutcome(record.line_number, RowResult.ERROR, code, message)


def _clean(cell: str) -> str:
    """A cell as its value: trimmed, without the spreadsheet escape."""
    text = cell.strip()
    return unescape_cell(text).strip() if text[:1] == "'" else text


def _picker(indexes: Sequence[int]) -> Callable[[Sequence[str]], tuple[str, ...]]:
    """The cells at `indexes`, as a tuple, picked by `itemgetter` in C."""
    if len(indexes) > 1:
        return itemgetter(*indexes)
    if indexes:
        only = indexes[0]
        return lambda cells: (cells[only],)
    return lambda cells: ()


def _says(label: str, text: str, why: str) -> str:
    shown = text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "…"
    return f'{label}: "{shown}" {why}.'


def _delimiter_hint(cells: Sequence[str]) -> str:
    """A row that used another delimiter than the header arrives as one cell."""
    filled = [cell for cell in cells if cell.strip()]
    if len(filled) == 1:
        for delimiter in (";", ","):
            if delimiter in filled[0]:
                return (
                    f" The row holds a single value containing {delimiter!r}: is it written "
                    "with another delimiter than the header?"
                )
    return ""
