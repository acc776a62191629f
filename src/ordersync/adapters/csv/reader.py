"""Reading an import file as a stream of records (SPEC §4).

The upload is read in blocks through an incremental UTF-8 decoder and handed line by line
to `csv.reader`, so memory holds one block and the longest record, never the file. The
header decides the delimiter and the columns; what makes the whole file unusable (no
header, an unknown or duplicated column, bytes that are not UTF-8, broken quoting) raises
`FileRefused`. What is wrong with one row is left to the row parser.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import re
from collections.abc import Collection, Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from ordersync.domain.imports import FileCode
from ordersync.domain.text import text_problem

if TYPE_CHECKING:
    from _csv import Reader

# Bytes asked of the stream per read: memory holds one block plus the record being read.
BLOCK_SIZE = 64 * 1024
# csv's default limit (128 KiB per field) would refuse a big cell as a broken file; the
# upload limit bounds a cell, and each column's own limit is the row parser's to enforce.
MAX_CELL_CHARS = 2**31 - 1
DELIMITERS = (",", ";")
_BOM = "\ufeff"
_MAX_HEADER_LINES = 8
_SQUASH = re.compile(r"[^0-9a-z]+")


class FileRefused(Exception):
    """The whole file is refused: nothing of it may be applied. `line` is the physical line
    of the file (from 1) where the problem is, `column` the header name it is about."""

    def __init__(
        self, code: FileCode, message: str, line: int | None = None, column: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.column = column


class CsvRecord(NamedTuple):
    """One row of the file: its record number (the header is 1), one cell per column
    (padded with empty cells when the row is short), and how many non-empty fields it
    holds beyond the header's columns."""

    line_number: int
    cells: tuple[str, ...]
    extra_fields: int


class CsvFile:
    """An opened import file: its columns and delimiter, iterable once over its records.

    Iteration raises `FileRefused` when it meets bytes that are not UTF-8 or broken quoting;
    the records before that point have been yielded, but the file as a whole is refused."""

    def __init__(
        self, columns: tuple[str, ...], delimiter: str, records: Iterator[CsvRecord]
    ) -> None:
        self.columns = columns
        self.delimiter = delimiter
        self._records = records

    def __iter__(self) -> Iterator[CsvRecord]:
        return self._records


def open_csv(
    stream: BinaryIO, *, known_columns: Collection[str], custom_field_columns: Collection[str]
) -> CsvFile:
    """Read the header of `stream` (UTF-8, with or without BOM, comma or semicolon) and check
    its columns: each must be one of `known_columns` or `custom_field_columns`, once.
    Raises FileRefused; the records are read as the returned file is iterated."""
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)
    known = frozenset(known_columns)
    custom = frozenset(custom_field_columns)
    lines = _text_lines(stream)
    skipped = 0  # blank lines before the header
    for first in lines:
        if first.strip():
            break
        skipped += 1
    else:
        raise FileRefused(FileCode.EMPTY, "The file is empty: it has no header line.")
    header_lines = [first]
    # A quoted newline inside a header name; a stray quote must not pull in the whole file.
    while "".join(header_lines).count('"') % 2 and len(header_lines) < _MAX_HEADER_LINES:
        following = next(lines, None)
        if following is None:
            break
        header_lines.append(following)

    delimiter = _delimiter(header_lines, known | custom)
    reader = csv.reader(chain(header_lines, lines), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise _malformed(exc, skipped + reader.line_num, skipped + 1) from None
    columns = tuple(name.strip() for name in header)
    _check_columns(columns, known, custom, header_line=skipped + 1)
    return CsvFile(columns, delimiter, _records(reader, len(columns), skipped))


def _text_lines(stream: BinaryIO) -> Iterator[str]:
    """The decoded lines of `stream`, each with its `\\n` (the last one maybe without), the
    BOM removed. Raises FileRefused NOT_UTF8 once the lines before the bad bytes are out."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0  # newlines decoded so far, to name the line of a bad byte
    pending: list[str] = []  # pieces of the line being read; joined once it ends
    at_start = True
    while True:
        block = stream.read(BLOCK_SIZE)
        final = not block
        bad_line = None
        try:
            text = decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            good = exc.object[: exc.start]
            bad_line = newlines + good.count(b"\n") + 1
            text = good.decode("utf-8")
            final = True
        if at_start and text:
            at_start = False
            text = text.removeprefix(_BOM)
        if "\n" in text:
            newlines += text.count("\n")
            parts = text.split("\n")
            if pending:
                pending.append(parts[0])
                parts[0] = "".join(pending)
            tail = parts.pop()
            pending = [tail] if tail else []
            for part in parts:
                yield part + "\n"
        elif text:
            pending.append(text)
        if bad_line is not None:
            raise FileRefused(
                FileCode.NOT_UTF8,
                f"Line {bad_line} holds bytes that are not UTF-8; save the file as UTF-8 "
                "(in a spreadsheet: CSV UTF-8).",
                line=bad_line,
            )
        if final:
            if pending:
                yield "".join(pending)
            return


def _delimiter(header_lines: list[str], names: frozenset[str]) -> str:
    """The delimiter the header uses outside quotes; when it holds both, the one that gives
    more known column names (comma on a tie); comma when it holds neither."""
    unquoted = "".join("".join(header_lines).split('"')[::2])
    found = [d for d in DELIMITERS if d in unquoted]
    if len(found) < 2:
        return found[0] if found else DELIMITERS[0]

    def known_names(delimiter: str) -> int:
        try:
            cells = next(csv.reader(header_lines, delimiter=delimiter))
        except (csv.Error, StopIteration):
            return -1
        return sum(cell.strip() in names for cell in cells)

    return max(DELIMITERS, key=known_names)  # max keeps the first (comma) on a tie


def _check_columns(
    columns: tuple[str, ...], known: frozenset[str], custom: frozenset[str], header_line: int
) -> None:
    for name in columns:
        problem = text_problem(name)
        if problem:
            raise FileRefused(
                FileCode.MALFORMED,
                f"The header {problem}; is the file UTF-16? Save it as UTF-8 "
                "(in a spreadsheet: CSV UTF-8).",
                line=header_line,
            )
    position_of: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if not name:
            raise FileRefused(
                FileCode.UNKNOWN_COLUMN,
                f"Column {position} has no name.",
                line=header_line,
                column="",
            )
        if name in position_of:
            raise FileRefused(
                FileCode.DUPLICATE_COLUMN,
                f"Column {name!r} appears twice (columns {position_of[name]} and {position}).",
                line=header_line,
                column=name,
            )
        if name not in known and name not in custom:
            hint = _did_you_mean(name, chain(sorted(known), sorted(custom)))
            raise FileRefused(
                FileCode.UNKNOWN_COLUMN,
                f"Column {name!r} is neither a column of this import nor the external id of "
                f"a custom field{f'; did you mean {hint!r}?' if hint else '.'}",
                line=header_line,
                column=name,
            )
        position_of[name] = position


def _did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate `name` differs from only by case, spaces and punctuation, or else by a
    typo or two."""
    by_key: dict[str, str] = {}
    for candidate in candidates:
        by_key.setdefault(_SQUASH.sub("", candidate.casefold()), candidate)
    key = _SQUASH.sub("", name.casefold())
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.85)
    return by_key[close[0]] if close else None


def _records(reader: Reader, width: int, skipped: int) -> Iterator[CsvRecord]:
    """The rows after the header. An empty line is no record; a record whose every cell is
    empty (a spreadsheet's blank row) keeps its number, so numbers stay those of the
    spreadsheet's rows, but is not yielded: it asks for nothing."""
    padding = ("",) * width
    number = 1
    start = reader.line_num + 1  # where the record being read starts
    try:
        for row in reader:
            start = reader.line_num + 1
            if not row:
                continue
            number += 1
            if not row[0].strip() and not any(cell.strip() for cell in row):
                continue
            size = len(row)
            if size == width:
                yield CsvRecord(number, tuple(row), 0)
            elif size < width:
                yield CsvRecord(number, (*row, *padding[size:]), 0)
            else:
                last = size
                while last > width and not row[last - 1].strip():
                    last -= 1  # a trailing delimiter loses nothing
                yield CsvRecord(number, tuple(row[:width]), last - width)
    except csv.Error as exc:
        raise _malformed(exc, skipped + reader.line_num, skipped + start) from None


def _malformed(exc: csv.Error, line: int, record_start: int) -> FileRefused:
    reason = str(exc)
    if "unexpected end of data" in reason:
        message = f"The quoted field that starts on line {record_start} is never closed."
        line = record_start
    elif "new-line character" in reason:
        message = (
            f"Line {line} ends with a lone carriage return; save the file with LF or CRLF "
            "line endings."
        )
    elif "expected after" in reason:
        message = (
            f"Line {line}: a quoted field is followed by other characters (a quote inside a "
            'quoted field is written "").'
        )
    else:
        message = f"Line {line}: {reason}."
    return FileRefused(FileCode.MALFORMED, message, line=line)
