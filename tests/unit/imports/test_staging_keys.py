"""What the upload stores with each row (services.imports._staged): the order and line it
names, read as the row parser reads cells, and its partition, shared by every row of one
commercial order. No database: the external-id look-up is a fake."""

from __future__ import annotations

import zlib
from collections.abc import Collection
from typing import Any, cast

from ordersync.adapters.csv import CsvRecord
from ordersync.adapters.db.import_repository import _staged_text
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.imports import Column
from ordersync.services.imports import _Keys, _staged

PARTITIONS = 4
COLUMNS = [
    Column.ORDER_REFERENCE.value,
    Column.ORDER_EXTERNAL_ID.value,
    Column.LINE_ID.value,
    Column.LINE_EXTERNAL_ID.value,
]


class _Imports:
    """Logistic orders' external ids -> their commercial order's reference."""

    def __init__(self, known: dict[str, str]) -> None:
        self.known = known
        self.asked: list[set[str]] = []

    def commercial_references(self, external_ids: Collection[str]) -> dict[str, str]:
        self.asked.append(set(external_ids))
        return {e: self.known[e] for e in external_ids if e in self.known}


class _Uow:
    def __init__(self, known: dict[str, str]) -> None:
        self.imports = _Imports(known)


def partition_of(commercial: str) -> int:
    return zlib.crc32(commercial.encode()) % PARTITIONS


def staged(
    rows: list[tuple[str, str, str, str]],
    known: dict[str, str] | None = None,
    columns: list[str] = COLUMNS,
) -> list[tuple[Any, ...]]:
    uow = _Uow(known or {})
    records = [CsvRecord(n, row, 0) for n, row in enumerate(rows, start=2)]
    result = _staged(cast(UnitOfWork, uow), records, _Keys.of(columns), PARTITIONS)
    return [(order_key, line_key, partition) for _, partition, order_key, line_key, *_ in result]


def test_rows_of_one_commercial_order_share_its_partition_and_keep_their_own_keys() -> None:
    rows = [
        ("260-211-1-1", "", "7", ""),
        ("260-211-1-1", "", "8", ""),
        (" 260-211-1-2 ", "", "9", ""),  # another logistic order of the same order
        ("260-211-1-1", "", "10", ""),
    ]
    commercial = partition_of("260-211-1")
    assert staged(rows) == [
        ("260-211-1-1", "id:7", commercial),
        ("260-211-1-1", "id:8", commercial),
        ("260-211-1-2", "id:9", commercial),
        ("260-211-1-1", "id:10", commercial),
    ]


def test_a_row_named_by_external_id_goes_with_the_order_that_holds_it() -> None:
    rows = [
        ("", "EXT-1", "7", ""),
        ("   ", "EXT-1", "8", ""),  # a reference of spaces is no reference
        ("", "EXT-NEW", "9", ""),
        ("", "", "10", ""),
    ]
    assert staged(rows, known={"EXT-1": "260-211-1"}) == [
        ("ext:EXT-1", "id:7", partition_of("260-211-1")),
        ("ext:EXT-1", "id:8", partition_of("260-211-1")),
        ("ext:EXT-NEW", "id:9", partition_of("ext:EXT-NEW")),
        ("ext:", "id:10", partition_of("ext:")),
    ]


def test_line_keys_are_read_like_the_row_parser_reads_cells() -> None:
    rows = [
        ("R-1", "", " 12 ", ""),
        ("R-1", "", "'=13", ""),  # the spreadsheet escape is dropped
        ("R-1", "", "\u0663", ""),  # an Arabic-Indic three: kept as text, refused later
        ("R-1", "", "", "LX-1"),
        ("R-1", "", "", ""),
        ("R-1", "", "1\x002", ""),  # a NUL never reaches PostgreSQL
    ]
    assert [line_key for _, line_key, _ in staged(rows)] == [
        "id:12",
        "id:=13",
        "id:\u0663",
        "ext:LX-1",
        "",
        "id:1\ufffd2",
    ]


def test_a_file_without_an_external_id_column_looks_nothing_up() -> None:
    uow = _Uow({})
    columns = [Column.ORDER_REFERENCE.value, Column.LINE_ID.value]
    records = [CsvRecord(2, ("R-1", "7"), 0)]
    result = _staged(cast(UnitOfWork, uow), records, _Keys.of(columns), PARTITIONS)
    assert [(r[2], r[3]) for r in result] == [("R-1", "id:7")]
    assert uow.imports.asked == []


def test_keys_holding_copy_specials_are_escaped_and_the_others_kept_as_they_are() -> None:
    plain = [(2, 0, "R-1", "id:7", ("R-1", "7"), 0)]
    assert _staged_text("job", plain) == 'job\t2\t0\tR-1\tid:7\t["R-1","7"]\t0\n'
    odd = [*plain, (3, 1, "R\t2", "ext:a\\b", ("R\t2", "a\\b"), 0)]
    assert _staged_text("job", odd).splitlines()[1] == (
        'job\t3\t1\tR\\t2\text:a\\\\b\t["R\\\\t2","a\\\\\\\\b"]\t0'
    )
